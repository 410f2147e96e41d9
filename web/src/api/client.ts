// The console's only way to the server: fetch against /admin/api/v1 with the
// session token, errors turned into ApiError (the OpenAI-style envelope's
// message and param), and a 401 on any call ending the session.
import { session } from "../lib/session";

export const API_BASE = "/admin/api/v1";

/** An error answered by the admin API, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param?: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export type Query = Record<string, string | number | boolean | undefined | null>;

/** queryString drops empty values so URLs stay short. */
export function queryString(q?: Query): string {
  if (!q) return "";
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === "") continue;
    p.set(k, String(v));
  }
  const s = p.toString();
  return s ? "?" + s : "";
}

interface Options {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Do not end the session on 401 (the login form itself). */
  anonymous?: boolean;
}

/** raw performs the request and returns the Response when it is 2xx. */
export async function raw(method: string, path: string, opts: Options = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = session.value?.token;
  if (token && !opts.anonymous) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(API_BASE + path + queryString(opts.query), { method, headers, body, signal: opts.signal });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(0, "The server cannot be reached. Check that sluice is running.");
  }
  if (res.ok) return res;
  let message = `${res.status} ${res.statusText}`;
  let param: string | undefined;
  let code: string | undefined;
  try {
    const env = await res.json();
    if (env?.error?.message) {
      message = env.error.message;
      param = env.error.param ?? undefined;
      code = env.error.code ?? undefined;
    }
  } catch {
    /* not JSON: keep the status line */
  }
  if (res.status === 401 && !opts.anonymous) session.expire();
  throw new ApiError(res.status, message, param, code);
}

export async function request<T>(method: string, path: string, opts: Options = {}): Promise<T> {
  const res = await raw(method, path, opts);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>("GET", path, { query, signal }),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, { body: body ?? {} }),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, { body }),
  del: <T = void>(path: string) => request<T>("DELETE", path),
};
