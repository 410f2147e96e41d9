// Types of the admin API, generated from its OpenAPI document
// (src/api/openapi.json, kept equal to the API's by a Go test; regenerate
// with `npm run gen:api`). Every field is optional in the document; the
// console treats the ones the API always sends as present.
import type { components } from "./schema";

type S = components["schemas"];
/** Full makes every field (deeply) present: the API sends them all. */
type Full<T> = T extends (infer U)[] ? Full<U>[] : T extends object ? { [K in keyof T]-?: Full<NonNullable<T[K]>> } : T;

export type Provider = Full<S["Provider"]>;
export type ProviderKind = Provider["kind"];
export type ProviderTest = Full<S["ProviderTest"]>;
export type Model = Full<S["Model"]>;
export type ModelTarget = Full<S["ModelTarget"]>;
export type Service = Full<S["Service"]>;
export type Limits = S["Limits"];
export type Consumer = Full<S["Consumer"]>;
export type Key = Full<S["Key"]>;
export type CreatedKey = Full<S["CreatedKey"]>;
export type Subscription = Full<S["Subscription"]>;
export type SubscriptionEvent = Full<S["SubscriptionEvent"]>;
export type Team = Full<S["Team"]>;
export type TeamWithMembers = Full<S["TeamWithMembers"]>;
export type User = Full<S["User"]>;
export type UserWithTeams = Full<S["UserWithTeams"]>;
export type AuditEntry = Full<S["AuditEntry"]>;
export type Breaker = Full<S["Breaker"]>;
export type Prompt = Full<S["Prompt"]>;
export type PromptVersion = Full<S["PromptVersion"]>;
export type PromptDiff = Full<S["PromptDiff"]>;
export type PromptTestRun = Full<S["PromptTestRun"]>;
export type LogSummary = Full<S["LogSummary"]>;
export type LogDetail = Full<S["LogDetail"]>;
export type LogPage = Full<S["LogPage"]>;
export type Attempt = Full<S["Attempt"]>;
export type Phase = Full<S["Phase"]>;
export type Waterfall = Full<S["Waterfall"]>;
export type Analytics = Full<S["Analytics"]>;
export type AnalyticsPoint = Full<S["AnalyticsPoint"]>;
export type AnalyticsGroup = Full<S["AnalyticsGroup"]>;
export type AnalyticsStats = Full<S["AnalyticsStats"]>;
export type AnalyticsTop = Full<S["AnalyticsTop"]>;
export type Session = Full<S["Session"]>;

/** A page of a list endpoint: ?page=&per_page= in, this out. */
export interface Page<T> {
  data: T[];
  page: number;
  per_page: number;
  total: number;
}

export const providerKinds: ProviderKind[] = [
  "openai", "azure", "anthropic", "gemini", "openai-compatible",
  "mistral", "groq", "deepseek", "together", "openrouter", "xai", "ollama", "vllm",
];
