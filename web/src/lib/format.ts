// Formatting shared by every page: times, durations, counts, money.

export function fmtTime(iso?: string | null): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (isNaN(d.getTime()) || d.getFullYear() < 1971) return "—";
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** fmtAgo says how long ago, e.g. "5 min ago"; "never" for an empty time. */
export function fmtAgo(iso?: string | null, now = Date.now()): string {
  if (!iso) return "never";
  const t = Date.parse(iso);
  if (isNaN(t) || t < 31536000000) return "never";
  const s = Math.round((now - t) / 1000);
  if (s < 0) return "in " + fmtSpan(-s);
  if (s < 5) return "just now";
  return fmtSpan(s) + " ago";
}

function fmtSpan(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** fmtUs shows microseconds as µs, ms or s with sensible precision. */
export function fmtUs(us?: number | null): string {
  if (us === undefined || us === null) return "—";
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 10_000) return `${(us / 1000).toFixed(2)} ms`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(1)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}

export function fmtMs(ms?: number | null): string {
  if (ms === undefined || ms === null) return "—";
  return fmtUs(ms * 1000);
}

export function fmtInt(n?: number | null): string {
  if (n === undefined || n === null) return "—";
  return n.toLocaleString("en-US");
}

/** fmtCompact: 1234 → 1.2k, 1_500_000 → 1.5M. */
export function fmtCompact(n?: number | null): string {
  if (n === undefined || n === null) return "—";
  const a = Math.abs(n);
  if (a >= 1e9) return (n / 1e9).toFixed(1) + "B";
  if (a >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (a >= 1e4) return (n / 1e3).toFixed(1) + "k";
  return fmtInt(Math.round(n));
}

export function fmtCost(usd?: number | null): string {
  if (usd === undefined || usd === null) return "—";
  if (usd === 0) return "$0";
  if (usd < 0.01) return "$" + usd.toFixed(5);
  return "$" + usd.toFixed(2);
}

export function fmtPct(x: number): string {
  return (x * 100).toFixed(x < 0.1 ? 2 : 1) + "%";
}
