package migrations

// steps is every migration, in version order. Append only.
var steps = []step{
	{1, "users", up0001, down0001},
}
