// The signed-in session: the token (the only thing kept in local storage),
// when it expires, and who it is. Expiry — by the clock or by a 401 — clears
// it, and the app shows the login page with a note saying why.
import type { Session, User } from "../api/types";

const KEY = "sluice.session";

export interface Stored {
  token: string;
  expires_at: string;
  user: User;
}

type Listener = () => void;

class SessionStore {
  value: Stored | null = null;
  /** Why the last session ended, shown on the login page once. */
  reason = "";
  private listeners = new Set<Listener>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    try {
      const s = localStorage.getItem(KEY);
      if (s) this.value = JSON.parse(s) as Stored;
    } catch {
      this.value = null;
    }
    if (this.value && Date.parse(this.value.expires_at) <= Date.now()) {
      this.value = null;
      this.reason = "Your session expired. Log in again.";
      this.persist();
    }
    this.arm();
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get isAdmin(): boolean {
    return this.value?.user.role === "admin";
  }

  start(s: Session): void {
    this.value = { token: s.token, expires_at: s.expires_at, user: s.user };
    this.reason = "";
    this.persist();
    this.arm();
    this.emit();
  }

  /** end is a deliberate logout. */
  end(): void {
    this.clear("");
  }

  /** expire ends a session the server no longer accepts. */
  expire(): void {
    if (this.value) this.clear("Your session expired. Log in again.");
  }

  private clear(reason: string): void {
    this.value = null;
    this.reason = reason;
    this.persist();
    this.arm();
    this.emit();
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (!this.value) return;
    const ms = Date.parse(this.value.expires_at) - Date.now();
    // setTimeout overflows past ~24.8 days; sessions are hours long.
    this.timer = setTimeout(() => this.expire(), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
  }

  private persist(): void {
    try {
      if (this.value) localStorage.setItem(KEY, JSON.stringify(this.value));
      else localStorage.removeItem(KEY);
    } catch {
      /* storage disabled: the session lives in memory only */
    }
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}

export const session = new SessionStore();
