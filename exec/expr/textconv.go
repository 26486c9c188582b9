package expr

import (
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// formatText is the text a value of type t casts to: PostgreSQL's output
// (sqltypes.FormatText), except that a boolean casts to 'true' or 'false'
// where its output form is 't' or 'f'. v is a normalized non-NULL value.
func formatText(t sqltypes.Type, v any) string {
	if b, ok := v.(bool); ok && t.Kind == sqltypes.KindBool {
		if b {
			return "true"
		}
		return "false"
	}
	return sqltypes.FormatText(t, v)
}

// parseText parses PostgreSQL's text input of a value of type t
// (22P02, 22003, 22007, 22008 on bad input).
func parseText(t sqltypes.Type, s string) (any, error) {
	return sqltypes.ParseText(t, s)
}
