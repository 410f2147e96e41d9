// Hooks every page uses: the session, a loaded resource with reload, and
// filters kept in the URL's query string so a view can be shared.
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "preact/compat";
import { useLocation, useSearch } from "wouter-preact";
import { session, type Stored } from "./session";

export function useSession(): Stored | null {
  return useSyncExternalStore(
    (cb) => session.subscribe(cb),
    () => session.value,
  );
}

export interface Resource<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload: () => void;
}

/**
 * useResource loads fn() whenever deps change, aborting the previous load;
 * reload() loads again (after a change) without clearing what is shown.
 */
export function useResource<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    fnRef.current(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ data, loading: false }),
      (error: Error) => !ctl.signal.aborted && error.name !== "AbortError" && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/**
 * useQueryParams returns the URL's query parameters and a setter that
 * merges a patch into them (empty values are removed). Changing a filter
 * resets ?page unless the patch sets it.
 */
export function useQueryParams(): [Record<string, string>, (patch: Record<string, string | number | undefined | null>) => void] {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const params = Object.fromEntries(new URLSearchParams(search));
  const set = useCallback(
    (patch: Record<string, string | number | undefined | null>) => {
      const next = new URLSearchParams(search);
      if (!("page" in patch)) next.delete("page");
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined || v === null || v === "") next.delete(k);
        else next.set(k, String(v));
      }
      const qs = next.toString();
      navigate(location + (qs ? "?" + qs : ""), { replace: true });
    },
    [search, location, navigate],
  );
  return [params, set];
}

/** useInterval calls fn every ms while enabled. */
export function useInterval(fn: () => void, ms: number, enabled = true): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (!enabled) return;
    const id = setInterval(() => ref.current(), ms);
    return () => clearInterval(id);
  }, [ms, enabled]);
}
