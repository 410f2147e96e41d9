// The console's building blocks: page header, buttons, badges, messages,
// tables with pagination, and form fields that show the API's field errors.
import { cloneElement, isValidElement, type ComponentChildren, type JSX, type VNode } from "preact";
import { useId, useState } from "preact/hooks";
import { ApiError } from "../api/client";

export function PageHeader(props: { title: string; subtitle?: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <header class="page-header">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle && <p class="muted">{props.subtitle}</p>}
      </div>
      {props.actions && <div class="actions">{props.actions}</div>}
    </header>
  );
}

type ButtonProps = JSX.HTMLAttributes<HTMLButtonElement> & {
  variant?: "primary" | "danger" | "ghost" | "default";
  busy?: boolean;
  type?: "button" | "submit";
  disabled?: boolean;
};

export function Button({ variant = "default", busy, children, class: cls, type = "button", disabled, ...rest }: ButtonProps) {
  return (
    <button {...rest} type={type} class={`btn btn-${variant} ${cls ?? ""}`} disabled={disabled || busy} aria-busy={busy || undefined}>
      {busy && <Spinner small />}
      {children}
    </button>
  );
}

export function Spinner(props: { small?: boolean; label?: string }) {
  return <span class={props.small ? "spinner small" : "spinner"} role="status" aria-label={props.label ?? "Loading"} />;
}

export function Badge(props: { tone?: "green" | "red" | "amber" | "blue" | "gray"; children: ComponentChildren; title?: string }) {
  return <span class={`badge badge-${props.tone ?? "gray"}`} title={props.title}>{props.children}</span>;
}

const statusTone: Record<string, "green" | "red" | "amber" | "blue" | "gray"> = {
  approved: "green", pending: "amber", rejected: "red", revoked: "gray",
  closed: "green", open: "red", "half-open": "amber",
};

export function StatusBadge(props: { status: string }) {
  return <Badge tone={statusTone[props.status] ?? "gray"}>{props.status}</Badge>;
}

export function HttpStatus(props: { status: number }) {
  const tone = props.status === 0 ? "gray" : props.status < 300 ? "green" : props.status < 500 ? "amber" : "red";
  return <Badge tone={tone}>{props.status || "—"}</Badge>;
}

export function ErrorBanner(props: { error?: Error | null; title?: string }) {
  if (!props.error) return null;
  return (
    <div class="banner banner-error" role="alert">
      {props.title && <strong>{props.title}: </strong>}
      {props.error.message}
    </div>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <div class="empty">{props.children}</div>;
}

export interface Column<T> {
  header: string;
  render: (row: T) => ComponentChildren;
  class?: string;
}

/** Table renders rows; onRow makes each row open something (click or Enter). */
export function Table<T>(props: {
  columns: Column<T>[];
  rows: T[] | undefined;
  loading?: boolean;
  empty?: ComponentChildren;
  rowKey: (row: T) => string | number;
  onRow?: (row: T) => void;
  label?: string;
}) {
  const { columns, rows, onRow } = props;
  return (
    <div class="table-wrap">
      <table class="table" aria-label={props.label} aria-busy={props.loading || undefined}>
        <thead>
          <tr>{columns.map((c) => <th class={c.class} scope="col">{c.header}</th>)}</tr>
        </thead>
        <tbody>
          {rows?.map((r) => (
            <tr
              key={props.rowKey(r)}
              class={onRow ? "clickable" : undefined}
              tabIndex={onRow ? 0 : undefined}
              onClick={onRow ? (e) => {
                if ((e.target as HTMLElement).closest("button, a, input, select, textarea")) return;
                onRow(r);
              } : undefined}
              onKeyDown={onRow ? (e) => e.key === "Enter" && e.target === e.currentTarget && onRow(r) : undefined}
            >
              {columns.map((c) => <td class={c.class}>{c.render(r)}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
      {props.loading && !rows && <div class="table-loading"><Spinner /></div>}
      {rows && rows.length === 0 && <Empty>{props.empty ?? "Nothing here yet."}</Empty>}
    </div>
  );
}

/** Pager moves through a paginated list; the page lives in the URL. */
export function Pager(props: { page: number; perPage: number; total: number; onPage: (p: number) => void }) {
  const pages = Math.max(1, Math.ceil(props.total / Math.max(1, props.perPage)));
  if (props.total <= props.perPage && props.page <= 1) {
    return <div class="pager muted">{props.total} {props.total === 1 ? "item" : "items"}</div>;
  }
  return (
    <nav class="pager" aria-label="Pagination">
      <Button variant="ghost" disabled={props.page <= 1} onClick={() => props.onPage(props.page - 1)}>← Previous</Button>
      <span>Page {props.page} of {pages} · {props.total} items</span>
      <Button variant="ghost" disabled={props.page >= pages} onClick={() => props.onPage(props.page + 1)}>Next →</Button>
    </nav>
  );
}

/** SearchBox is a filter input that applies after typing stops. */
export function SearchBox(props: { value: string; onChange: (v: string) => void; placeholder?: string; label?: string }) {
  const [v, setV] = useState(props.value);
  const [timer, setTimer] = useState<ReturnType<typeof setTimeout>>();
  return (
    <input
      type="search"
      class="input search"
      aria-label={props.label ?? "Search"}
      placeholder={props.placeholder ?? "Search…"}
      value={v}
      onInput={(e) => {
        const nv = (e.target as HTMLInputElement).value;
        setV(nv);
        clearTimeout(timer);
        setTimer(setTimeout(() => props.onChange(nv), 300));
      }}
    />
  );
}

/**
 * Field labels one control by id (label for=…, not a wrapping label, so a
 * select's accessible name is the label alone, not its options' text), and
 * shows a hint or the field's error, tied to the control by
 * aria-describedby.
 */
export function Field(props: { label: string; error?: string; hint?: ComponentChildren; children: ComponentChildren; id?: string }) {
  const auto = useId();
  const child = props.children;
  const existing = isValidElement(child) ? ((child as VNode<{ id?: string }>).props.id as string | undefined) : undefined;
  const id = props.id ?? existing ?? "f" + auto;
  const note = id + "-note";
  const control = isValidElement(child)
    ? cloneElement(child as VNode<Record<string, unknown>>, {
        id,
        "aria-invalid": props.error ? true : undefined,
        "aria-describedby": props.error || props.hint ? note : undefined,
      })
    : child;
  return (
    <div class={`field ${props.error ? "has-error" : ""}`}>
      <label class="field-label" for={id}>{props.label}</label>
      {control}
      {props.hint && !props.error && <small class="hint" id={note}>{props.hint}</small>}
      {props.error && <small class="field-error" id={note} role="alert">{props.error}</small>}
    </div>
  );
}

/** Errors maps a field name to its message; "" holds a form-wide error. */
export type Errors = Record<string, string>;

/**
 * submitErrors turns a failed submit into field errors: the API names the
 * offending field in `param`, so the message goes beside that field when
 * the form has it (paths like targets[0].weight fall back to their root).
 */
export function submitErrors(e: unknown, fields: string[]): Errors {
  if (e instanceof ApiError && e.param) {
    const root = e.param.split(/[.[]/)[0];
    if (fields.includes(e.param)) return { [e.param]: e.message };
    if (fields.includes(root)) return { [root]: e.message };
  }
  return { "": e instanceof Error ? e.message : String(e) };
}

export function FormError(props: { errors: Errors }) {
  return props.errors[""] ? <div class="banner banner-error" role="alert">{props.errors[""]}</div> : null;
}

export function CopyButton(props: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <Button
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(props.text);
        } catch {
          // Clipboard needs a secure context; fall back to selecting text.
          const ta = document.createElement("textarea");
          ta.value = props.text;
          document.body.appendChild(ta);
          ta.select();
          document.execCommand("copy");
          ta.remove();
        }
        setDone(true);
        setTimeout(() => setDone(false), 1500);
      }}
    >
      {done ? "Copied" : props.label ?? "Copy"}
    </Button>
  );
}

export function Tabs(props: { tabs: { id: string; label: string }[]; active: string; onChange: (id: string) => void }) {
  return (
    <div class="tabs" role="tablist">
      {props.tabs.map((t) => (
        <button type="button" role="tab" aria-selected={t.id === props.active} class={t.id === props.active ? "tab active" : "tab"} onClick={() => props.onChange(t.id)}>
          {t.label}
        </button>
      ))}
    </div>
  );
}
