package migrations

// steps is every migration, in version order. Append only.
var steps = []step{
	{1, "users", up0001, down0001},
	{2, "access", up0002, down0002},
	{3, "providers and model targets", up0003, down0003},
	{4, "call log and rollups", up0004, down0004},
	{5, "prompts and prompt versions", up0005, down0005},
	{6, "hourly and daily call-log rollups", up0006, down0006},
	{7, "service body logging and retention", up0007, down0007},
	{8, "prompt in the rollup key", up0008, down0008},
	{9, "drop the call log's status index", up0009, down0009},
}
