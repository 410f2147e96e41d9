package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/providers"
)

// The OpenAPI 3 document of the admin API, built from one table of
// operations. TestOpenAPIMatchesRouter checks it against the routes.

type object = map[string]any

func str() object { return object{"type": "string"} }

// The call-log settings of a service.
var (
	logBodiesSchema = object{"type": "boolean", "description": "store the request and response bodies of calls (capped at 60000 bytes, credentials and redact_fields redacted); default false"}
	retentionSchema = object{"type": "integer", "minimum": 0, "maximum": 3650, "description": "days the service's call-log rows are kept; 0 keeps them forever"}
	redactSchema    = object{"type": "array", "maxItems": 32, "items": object{"type": "string", "pattern": "^([A-Za-z0-9_\\-]+|#)(\\.([A-Za-z0-9_\\-]+|#))*$"},
		"description": "gjson/sjson paths whose values are stored as \"[redacted]\": dot-separated keys, '#' for every array element, e.g. [\"messages.#.content\",\"user\"]; in streamed responses they apply to each JSON data: line"}
)

func integer() object  { return object{"type": "integer", "format": "int64"} }
func number() object   { return object{"type": "number"} }
func boolean() object  { return object{"type": "boolean"} }
func dateTime() object { return object{"type": "string", "format": "date-time"} }
func nullable(o object) object {
	o["nullable"] = true
	return o
}
func arr(items object) object { return object{"type": "array", "items": items} }
func ref(name string) object  { return object{"$ref": "#/components/schemas/" + name} }
func enum(values ...string) object {
	return object{"type": "string", "enum": values}
}

func obj(props object, required ...string) object {
	o := object{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// withProps is base's properties plus more.
func withProps(base object, more object) object {
	props := object{}
	for k, v := range base["properties"].(object) {
		props[k] = v
	}
	for k, v := range more {
		props[k] = v
	}
	return object{"type": "object", "properties": props}
}

func listOf(item string) object {
	return obj(object{"data": arr(ref(item)), "page": integer(), "per_page": integer(), "total": integer()})
}

var (
	teamSchema     = obj(object{"id": integer(), "name": str(), "created_at": dateTime(), "updated_at": dateTime()})
	userSchema     = obj(object{"id": integer(), "email": str(), "name": str(), "role": enum("admin", "member"), "disabled": boolean(), "created_at": dateTime(), "updated_at": dateTime()})
	limitsSchema   = obj(object{"rpm": integer(), "tpm": integer(), "monthly_tokens": integer()})
	modelSchema    = obj(object{"id": integer(), "name": str(), "input_price": number(), "output_price": number(), "created_at": dateTime(), "updated_at": dateTime()})
	stringMap      = object{"type": "object", "additionalProperties": str()}
	providerKind   = enum(providers.Kinds()...) // every kind providers/all registers
	providerSchema = obj(object{"id": integer(), "name": str(), "kind": providerKind, "base_url": str(),
		"has_api_key": object{"type": "boolean", "description": "whether a credential is stored; the credential itself is never returned"},
		"settings":    stringMap, "headers": stringMap, "timeout_ms": integer(), "enabled": boolean(), "created_at": dateTime(), "updated_at": dateTime()})
	targetSchema = obj(object{"id": integer(), "model_id": integer(), "provider_id": integer(), "upstream_model": str(), "weight": integer(), "priority": integer(),
		"provider_name": str(), "provider_kind": str()})
	keySchema = obj(object{"id": str(), "consumer_id": integer(), "name": str(), "prefix": str(), "expires_at": nullable(dateTime()),
		"last_used_at": nullable(dateTime()), "revoked_at": nullable(dateTime()), "revoked_by": integer(), "created_by": integer(), "created_at": dateTime()})
	subscriptionSchema = obj(object{"id": integer(), "consumer_id": integer(), "service_id": integer(), "status": enum("pending", "approved", "rejected", "revoked"),
		"reason": str(), "decided_by": nullable(integer()), "decided_at": nullable(dateTime()), "created_at": dateTime(), "updated_at": dateTime(),
		"service_slug": str(), "service_name": str(), "service_team_id": integer(), "consumer_name": str(), "consumer_team_id": integer(),
		"events": arr(ref("SubscriptionEvent"))})
)

var schemas = object{
	"Error":           obj(object{"error": obj(object{"message": str(), "type": str(), "code": nullable(str()), "param": nullable(str())})}),
	"Team":            teamSchema,
	"TeamWithMembers": withProps(teamSchema, object{"members": arr(ref("User"))}),
	"TeamMember":      obj(object{"team_id": integer(), "user_id": integer(), "created_at": dateTime()}),
	"User":            userSchema,
	"UserWithTeams":   withProps(userSchema, object{"teams": arr(ref("Team"))}),
	"Session":         obj(object{"token": str(), "expires_at": dateTime(), "user": ref("User")}),
	"Model":           withProps(modelSchema, object{"targets": arr(ref("ModelTarget"))}),
	"ModelTarget":     targetSchema,
	"Provider":        providerSchema,
	"ProviderTest": obj(object{"ok": boolean(), "latency_ms": integer(), "check": enum("list_models", "chat"),
		"models": arr(str()), "model": str(), "status": object{"type": "integer", "description": "the upstream's HTTP status of a failed test"},
		"error": object{"type": "string", "description": "why the test failed, as the upstream said it (never the credential)"}}),
	"Breaker": obj(object{"target_id": object{"type": "string", "description": "provider name / upstream model"},
		"state": enum("closed", "open", "half-open"), "consecutive_failures": integer(), "opened_at": dateTime()}),
	"BreakerList": obj(object{"data": arr(ref("Breaker"))}),
	"Limits":      limitsSchema,
	"Service": obj(object{"id": integer(), "slug": str(), "name": str(), "description": str(), "team_id": integer(),
		"approval": enum("manual", "auto"), "limits": ref("Limits"), "models": arr(ref("Model")),
		"log_bodies": logBodiesSchema, "log_retention_days": retentionSchema, "redact_fields": redactSchema,
		"created_at": dateTime(), "updated_at": dateTime()}),
	"Consumer":          obj(object{"id": integer(), "name": str(), "description": str(), "team_id": integer(), "created_at": dateTime(), "updated_at": dateTime()}),
	"Key":               keySchema,
	"CreatedKey":        withProps(keySchema, object{"key": object{"type": "string", "description": "the key itself, shown only in this answer"}}),
	"Subscription":      subscriptionSchema,
	"SubscriptionEvent": obj(object{"id": integer(), "subscription_id": integer(), "from": str(), "to": str(), "actor_id": nullable(integer()), "actor_email": str(), "reason": str(), "created_at": dateTime()}),
	"AuditEntry": obj(object{"id": integer(), "actor_id": nullable(integer()), "actor_email": str(), "action": str(), "resource": str(), "resource_id": str(),
		"team_id": nullable(integer()), "before": object{"type": "string", "description": "the object before, as compact JSON"},
		"after": object{"type": "string", "description": "the object after, as compact JSON"}, "created_at": dateTime()}),
	"TeamList":         listOf("Team"),
	"UserList":         listOf("User"),
	"ModelList":        listOf("Model"),
	"ProviderList":     listOf("Provider"),
	"ServiceList":      listOf("Service"),
	"ConsumerList":     listOf("Consumer"),
	"KeyList":          listOf("Key"),
	"SubscriptionList": listOf("Subscription"),
	"AuditList":        listOf("AuditEntry"),
}

// Request bodies.
var (
	loginBody    = obj(object{"email": str(), "password": str()}, "email", "password")
	teamBody     = obj(object{"name": object{"type": "string", "maxLength": 100}}, "name")
	memberBody   = obj(object{"user_id": integer()}, "user_id")
	userBody     = obj(object{"email": str(), "name": str(), "password": object{"type": "string", "minLength": 8, "maxLength": 72}, "role": enum("admin", "member")}, "email", "password")
	userPatch    = obj(object{"name": str(), "role": enum("admin", "member"), "disabled": boolean()})
	passwordBody = obj(object{"password": object{"type": "string", "minLength": 8, "maxLength": 72}}, "password")
	targetBody   = obj(object{"provider_id": integer(), "upstream_model": object{"type": "string", "description": "the model name the provider knows"},
		"weight":   object{"type": "integer", "minimum": 1, "default": 1, "description": "share of traffic within its priority"},
		"priority": object{"type": "integer", "minimum": 0, "default": 0, "description": "lower numbers are tried first"}}, "provider_id", "upstream_model")
	modelProps = object{"name": str(), "input_price": object{"type": "number", "minimum": 0, "description": "USD per million input tokens"},
		"output_price": object{"type": "number", "minimum": 0, "description": "USD per million output tokens"},
		"targets":      object{"type": "array", "items": targetBody, "description": "where the model is routed; on PATCH, replaces every target"}}
	providerProps = object{"name": str(), "kind": providerKind,
		"base_url":   object{"type": "string", "description": "the upstream's base URL including its version segment (https://api.openai.com/v1); empty for the kind's default; required by openai-compatible and azure"},
		"api_key":    object{"type": "string", "writeOnly": true, "description": "the credential, sealed at rest and never returned; on PATCH, left out keeps it and \"\" removes it"},
		"settings":   object{"type": "object", "additionalProperties": str(), "description": "kind-specific settings, e.g. azure deployment and api_version"},
		"headers":    object{"type": "object", "additionalProperties": str(), "description": "extra headers sent upstream (shown in clear: put credentials in api_key)"},
		"timeout_ms": object{"type": "integer", "minimum": 0, "description": "bound of one upstream attempt; 0 for none of its own"},
		"enabled":    object{"type": "boolean", "default": true}}
	providerBody  = obj(providerProps, "name", "kind")
	providerPatch = obj(providerProps)
	testBody      = obj(object{"model": object{"type": "string", "description": "upstream model for a 1-token chat completion, when the kind cannot list its models"}})
	modelBody     = obj(modelProps, "name")
	modelPatch    = obj(modelProps)
	serviceProps  = object{"slug": object{"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"}, "name": str(), "description": str(), "team_id": integer(),
		"approval": enum("manual", "auto"), "model_ids": arr(integer()), "limits": ref("Limits"),
		"log_bodies": logBodiesSchema, "log_retention_days": retentionSchema, "redact_fields": redactSchema}
	serviceBody   = obj(serviceProps, "slug", "name", "team_id")
	servicePatch  = obj(serviceProps)
	consumerProps = object{"name": str(), "description": str(), "team_id": integer()}
	consumerBody  = obj(consumerProps, "name", "team_id")
	consumerPatch = obj(consumerProps)
	keyBody       = obj(object{"name": str(), "expires_at": nullable(dateTime())}, "name")
	reasonBody    = obj(object{"reason": object{"type": "string", "description": "why; required to reject or revoke"}})
)

type param struct {
	name, in, desc string
	schema         object
}

func q(name, desc string, schema object) param { return param{name, "query", desc, schema} }

var pageParams = []param{q("page", "page number, from 1", integer()), q("per_page", "page size, 1 to 200 (default 50)", integer())}

// operation is one documented route.
type operation struct {
	method, path, summary, tag string
	public                     bool
	optionalBody               bool // the body may be left out
	query                      []param
	body                       object
	status                     int
	response                   string // schema name; "" for no content
	stream                     string // when set, the success may also be text/event-stream, as this describes
	errors                     []int
}

var operations = []operation{
	{method: "GET", path: "/openapi.json", summary: "This document", tag: "meta", public: true, status: 200, response: ""},
	{method: "POST", path: "/login", summary: "Log in; returns a session token valid 12 hours", tag: "auth", public: true, body: loginBody, status: 200, response: "Session", errors: []int{400, 401, 429}},
	{method: "POST", path: "/logout", summary: "End the session", tag: "auth", status: 204},
	{method: "POST", path: "/refresh", summary: "Replace the session token with a new one", tag: "auth", status: 200, response: "Session"},
	{method: "GET", path: "/me", summary: "The signed-in user and their teams", tag: "auth", status: 200, response: "UserWithTeams"},

	{method: "GET", path: "/teams", summary: "List teams (admins)", tag: "teams", query: []param{q("q", "substring of the name", str())}, status: 200, response: "TeamList", errors: []int{400, 403}},
	{method: "POST", path: "/teams", summary: "Create a team (admins)", tag: "teams", body: teamBody, status: 201, response: "Team", errors: []int{400, 403, 409}},
	{method: "GET", path: "/teams/{id}", summary: "A team with its members (admins)", tag: "teams", status: 200, response: "TeamWithMembers", errors: []int{403, 404}},
	{method: "PATCH", path: "/teams/{id}", summary: "Rename a team (admins)", tag: "teams", body: teamBody, status: 200, response: "Team", errors: []int{400, 403, 404, 409}},
	{method: "DELETE", path: "/teams/{id}", summary: "Delete a team that owns nothing (admins)", tag: "teams", status: 204, errors: []int{403, 404, 409}},
	{method: "POST", path: "/teams/{id}/members", summary: "Add a member (admins)", tag: "teams", body: memberBody, status: 201, response: "TeamMember", errors: []int{400, 403, 404, 409}},
	{method: "DELETE", path: "/teams/{id}/members/{user_id}", summary: "Remove a member (admins)", tag: "teams", status: 204, errors: []int{403, 404}},

	{method: "GET", path: "/users", summary: "List users (admins)", tag: "users", query: []param{q("q", "substring of the email or name", str()), q("role", "admin or member", enum("admin", "member")), q("team_id", "members of this team", integer())}, status: 200, response: "UserList", errors: []int{400, 403}},
	{method: "POST", path: "/users", summary: "Create a user (admins)", tag: "users", body: userBody, status: 201, response: "UserWithTeams", errors: []int{400, 403, 409}},
	{method: "GET", path: "/users/{id}", summary: "A user with their teams (admins)", tag: "users", status: 200, response: "UserWithTeams", errors: []int{403, 404}},
	{method: "PATCH", path: "/users/{id}", summary: "Change a user's name, role or disabled flag (admins)", tag: "users", body: userPatch, status: 200, response: "User", errors: []int{400, 403, 404, 409}},
	{method: "POST", path: "/users/{id}/password", summary: "Reset a user's password (admins)", tag: "users", body: passwordBody, status: 204, errors: []int{400, 403, 404}},

	{method: "GET", path: "/providers", summary: "List providers (never their credentials)", tag: "providers", query: []param{q("q", "substring of the name or base URL", str()), q("kind", "of this kind", str())}, status: 200, response: "ProviderList", errors: []int{400}},
	{method: "POST", path: "/providers", summary: "Create a provider (admins); api_key is sealed and never returned", tag: "providers", body: providerBody, status: 201, response: "Provider", errors: []int{400, 403, 409}},
	{method: "GET", path: "/providers/{id}", summary: "A provider", tag: "providers", status: 200, response: "Provider", errors: []int{404}},
	{method: "PATCH", path: "/providers/{id}", summary: "Change a provider (admins); api_key replaces the credential, \"\" removes it", tag: "providers", body: providerPatch, status: 200, response: "Provider", errors: []int{400, 403, 404, 409}},
	{method: "DELETE", path: "/providers/{id}", summary: "Delete a provider no model targets (admins)", tag: "providers", status: 204, errors: []int{403, 404, 409}},
	{method: "GET", path: "/breakers", summary: "Circuit-breaker state of every routing target this replica has used (closed, open, half-open)", tag: "providers", status: 200, response: "BreakerList"},
	{method: "POST", path: "/providers/{id}/test", summary: "Test the connection (admins): list the models, or send a 1-token chat completion to body.model; a failed test answers 200 with ok false", tag: "providers", body: testBody, optionalBody: true, status: 200, response: "ProviderTest", errors: []int{400, 403, 404}},

	{method: "GET", path: "/models", summary: "List models", tag: "models", query: []param{q("q", "substring of the name", str())}, status: 200, response: "ModelList", errors: []int{400}},
	{method: "POST", path: "/models", summary: "Create a model with its targets (admins)", tag: "models", body: modelBody, status: 201, response: "Model", errors: []int{400, 403, 409}},
	{method: "GET", path: "/models/{id}", summary: "A model with its targets", tag: "models", status: 200, response: "Model", errors: []int{404}},
	{method: "PATCH", path: "/models/{id}", summary: "Change a model (admins); targets replaces every target", tag: "models", body: modelPatch, status: 200, response: "Model", errors: []int{400, 403, 404, 409}},
	{method: "DELETE", path: "/models/{id}", summary: "Delete a model no service uses (admins)", tag: "models", status: 204, errors: []int{403, 404, 409}},

	{method: "GET", path: "/services", summary: "List services (members: their teams')", tag: "services", query: []param{q("team_id", "owned by this team", integer()), q("q", "substring of the name or slug", str())}, status: 200, response: "ServiceList", errors: []int{400}},
	{method: "POST", path: "/services", summary: "Create a service", tag: "services", body: serviceBody, status: 201, response: "Service", errors: []int{400, 403, 409}},
	{method: "GET", path: "/services/{id}", summary: "A service with its models", tag: "services", status: 200, response: "Service", errors: []int{404}},
	{method: "PATCH", path: "/services/{id}", summary: "Change a service (model_ids replaces its models)", tag: "services", body: servicePatch, status: 200, response: "Service", errors: []int{400, 403, 404, 409}},
	{method: "DELETE", path: "/services/{id}", summary: "Delete a service with its subscriptions", tag: "services", status: 204, errors: []int{403, 404}},

	{method: "GET", path: "/consumers", summary: "List consumers (members: their teams')", tag: "consumers", query: []param{q("team_id", "owned by this team", integer()), q("q", "substring of the name", str())}, status: 200, response: "ConsumerList", errors: []int{400}},
	{method: "POST", path: "/consumers", summary: "Create a consumer", tag: "consumers", body: consumerBody, status: 201, response: "Consumer", errors: []int{400, 403, 409}},
	{method: "GET", path: "/consumers/{id}", summary: "A consumer", tag: "consumers", status: 200, response: "Consumer", errors: []int{404}},
	{method: "PATCH", path: "/consumers/{id}", summary: "Change a consumer", tag: "consumers", body: consumerPatch, status: 200, response: "Consumer", errors: []int{400, 403, 404, 409}},
	{method: "DELETE", path: "/consumers/{id}", summary: "Delete a consumer with its keys and subscriptions", tag: "consumers", status: 204, errors: []int{403, 404}},
	{method: "GET", path: "/consumers/{id}/keys", summary: "List a consumer's keys (never the keys themselves)", tag: "keys", status: 200, response: "KeyList", errors: []int{400, 404}},
	{method: "POST", path: "/consumers/{id}/keys", summary: "Create a key; the key is shown only in this answer", tag: "keys", body: keyBody, status: 201, response: "CreatedKey", errors: []int{400, 403, 404}},
	{method: "DELETE", path: "/consumers/{id}/keys/{key_id}", summary: "Revoke a key (idempotent); the gateway refuses it once this answers", tag: "keys", status: 200, response: "Key", errors: []int{403, 404}},

	{method: "GET", path: "/subscriptions", summary: "List subscriptions (members: their teams' services and consumers)", tag: "subscriptions", query: []param{q("status", "pending, approved, rejected or revoked", enum("pending", "approved", "rejected", "revoked")), q("service_id", "of this service", integer()), q("consumer_id", "of this consumer", integer())}, status: 200, response: "SubscriptionList", errors: []int{400}},
	{method: "GET", path: "/subscriptions/{id}", summary: "A subscription with its history", tag: "subscriptions", status: 200, response: "Subscription", errors: []int{404}},
	{method: "POST", path: "/subscriptions/{id}/approve", summary: "Approve a pending subscription", tag: "subscriptions", body: reasonBody, status: 200, response: "Subscription", errors: []int{400, 403, 404, 409}},
	{method: "POST", path: "/subscriptions/{id}/reject", summary: "Reject a pending subscription (reason required)", tag: "subscriptions", body: reasonBody, status: 200, response: "Subscription", errors: []int{400, 403, 404, 409}},
	{method: "POST", path: "/subscriptions/{id}/revoke", summary: "Revoke an approved subscription (reason required)", tag: "subscriptions", body: reasonBody, status: 200, response: "Subscription", errors: []int{400, 403, 404, 409}},

	{method: "GET", path: "/audit", summary: "The audit log, newest first (members: their teams' entries)", tag: "audit", query: []param{q("resource", "team, user, provider, model, service, consumer, key, subscription, session", str()), q("resource_id", "one resource's history", str()), q("actor_id", "changes by this user", integer()), q("since", "RFC 3339 time", dateTime())}, status: 200, response: "AuditList", errors: []int{400}},
}

var errorText = map[int]string{
	400: "invalid request; error.param names the field at fault",
	401: "no, invalid, expired or revoked session",
	403: "not allowed for this user",
	404: "not found (or another team's)",
	409: "duplicate, or not allowed in the current state",
	429: "too many attempts; see Retry-After",
}

// pathParams are the parameters in a path such as /teams/{id}/members/{user_id}.
func pathParams(path string) []object {
	var out []object
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") {
			name := strings.Trim(seg, "{}")
			s := integer()
			if name == "key_id" || name == "log_id" {
				s = str()
			}
			out = append(out, object{"name": name, "in": "path", "required": true, "schema": s})
		}
	}
	return out
}

func jsonContent(schema object) object {
	return object{"application/json": object{"schema": schema}}
}

// document builds the OpenAPI document.
func document() object {
	paths := object{}
	for _, op := range operations {
		item, _ := paths[op.path].(object)
		if item == nil {
			item = object{}
			paths[op.path] = item
		}
		params := []object{}
		params = append(params, pathParams(op.path)...)
		qs := op.query
		if strings.HasSuffix(op.response, "List") {
			qs = append(append([]param{}, op.query...), pageParams...)
		}
		for _, p := range qs {
			params = append(params, object{"name": p.name, "in": p.in, "description": p.desc, "required": false, "schema": p.schema})
		}
		responses := object{}
		ok := object{"description": http.StatusText(op.status)}
		if op.response != "" {
			ok["content"] = jsonContent(ref(op.response))
		} else if op.path == "/openapi.json" {
			ok["content"] = jsonContent(object{"type": "object"})
		}
		if op.stream != "" {
			ok["content"].(object)["text/event-stream"] = object{"schema": object{"type": "string", "description": op.stream}}
		}
		responses[itoa(op.status)] = ok
		errs := op.errors
		if !op.public {
			errs = append([]int{401}, errs...)
		}
		for _, code := range errs {
			responses[itoa(code)] = object{"description": errorText[code], "content": jsonContent(ref("Error"))}
		}
		o := object{"summary": op.summary, "tags": []string{op.tag}, "operationId": operationID(op), "parameters": params, "responses": responses}
		if op.body != nil {
			o["requestBody"] = object{"required": !op.optionalBody && (op.method != "POST" || !strings.Contains(op.path, "/subscriptions/")), "content": jsonContent(op.body)}
		}
		if op.public {
			o["security"] = []any{}
		}
		item[strings.ToLower(op.method)] = o
	}
	return object{
		"openapi": "3.0.3",
		"info": object{"title": "Sluice admin API", "version": "1",
			"description": "Manage teams, users, providers, models, services, consumers, keys and subscriptions. Log in at POST /login and send the token as 'Authorization: Bearer TOKEN'. Errors use the envelope {\"error\":{\"message\",\"type\",\"code\",\"param\"}}."},
		"servers":    []object{{"url": "/admin/api/v1"}},
		"security":   []object{{"session": []string{}}},
		"paths":      paths,
		"components": object{"schemas": schemas, "securitySchemes": object{"session": object{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// operationID is e.g. post_consumers_id_keys.
func operationID(op operation) string {
	r := strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_")
	return strings.ToLower(op.method) + r.Replace(op.path)
}

// openAPIJSON is the document, encoded once.
var openAPIJSON = sync.OnceValue(func() []byte {
	b, err := json.Marshal(document())
	if err != nil {
		panic(err)
	}
	return b
})

func (a *API) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIJSON())
}
