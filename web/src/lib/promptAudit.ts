// Helpers of the audit log and users pages: the resources the audit log
// records, before/after JSON shown readably, the "since" filter between a
// datetime-local input and RFC 3339, and the user form's checks (the rules
// of admin/api/users.go).

export const auditResources = ["team", "user", "provider", "model", "service", "consumer", "key", "subscription", "prompt", "session"];

/** prettyJSON indents compact JSON; text that is not JSON is shown as is; "" for nothing. */
export function prettyJSON(s?: string | null): string {
  if (!s || s === "null") return "";
  try {
    return JSON.stringify(JSON.parse(s), null, 2);
  } catch {
    return s;
  }
}

/** changedKeys lists the top-level keys whose values differ between before and after. */
export function changedKeys(before?: string | null, after?: string | null): string[] {
  const parse = (s?: string | null): Record<string, unknown> => {
    try {
      const v = s ? JSON.parse(s) : null;
      return v && typeof v === "object" && !Array.isArray(v) ? v : {};
    } catch {
      return {};
    }
  };
  const a = parse(before), b = parse(after);
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => k !== "updated_at" && JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

const pad = (n: number) => String(n).padStart(2, "0");

/** toLocalInput shows an RFC 3339 time as a datetime-local value ("" when empty or invalid). */
export function toLocalInput(iso?: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** fromLocalInput turns a datetime-local value (local time) into RFC 3339 UTC. */
export function fromLocalInput(v: string): string {
  if (!v) return "";
  const d = new Date(v);
  if (isNaN(d.getTime())) return "";
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** emailOK is the API's check: something@something, no spaces, at most 254 bytes. */
export function emailOK(email: string): boolean {
  const e = email.trim().toLowerCase();
  const i = e.indexOf("@");
  return i >= 1 && i < e.length - 1 && e.length <= 254 && !/\s/.test(e);
}

/** passwordError is why a password is refused: 8 to 72 bytes (bcrypt's limit). */
export function passwordError(pw: string): string {
  const n = new TextEncoder().encode(pw).length;
  if (n < 8) return "The password needs at least 8 characters.";
  if (n > 72) return "The password can have at most 72 bytes.";
  return "";
}

export interface UserForm { email: string; name: string; role: "admin" | "member"; password: string }

/** checkUser validates the create-user form; keys are the API's field names. */
export function checkUser(f: UserForm, creating: boolean): Record<string, string> {
  const errs: Record<string, string> = {};
  if (creating && !emailOK(f.email)) errs.email = "Enter an email address such as ops@example.com.";
  if (f.name.length > 200) errs.name = "The name is at most 200 characters.";
  if (creating) {
    const pe = passwordError(f.password);
    if (pe) errs.password = pe;
  }
  return errs;
}
