package planner

import (
	"strconv"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"strings"
	"time"

	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// Connectors are the source connectors Sluice has.
var connectors = map[string]bool{"log": true, "datagen": true, "kafka": true, "nexmark": true}

// KafkaPseudoColumns are the columns every Kafka source has besides the
// declared ones, filled from each record's metadata: the key as text (NULL
// for none), its partition, offset and timestamp. A source declares them
// itself to choose their place; the ones it does not declare are added
// after its columns.
var KafkaPseudoColumns = []catalog.ColumnDef{
	{Name: "_key", Type: sqltypes.Text},
	{Name: "_partition", Type: sqltypes.Int32},
	{Name: "_offset", Type: sqltypes.Int64},
	{Name: "_timestamp", Type: sqltypes.Timestamp},
}

// bindCreateSource checks CREATE SOURCE's columns and the options every
// connector shares; the connector validates its own options when the
// source is opened, still inside the CREATE statement.
func (b *binder) bindCreateSource(s *CreateSourceStmt, text string) (plan.Statement, error) {
	if err := b.nameFree(s.Name); err != nil {
		return nil, err
	}
	def := catalog.SourceDef{Name: s.Name, Connector: "log", Options: map[string]string{}}
	seen := map[string]bool{}
	for _, c := range s.Columns {
		if seen[c.Name] {
			return nil, sqlerr.New(sqlerr.DuplicateColumn, "column %q specified more than once", c.Name)
		}
		seen[c.Name] = true
		def.Columns = append(def.Columns, catalog.ColumnDef{Name: c.Name, Type: c.Type, NotNull: c.NotNull})
	}
	if len(def.Columns) == 0 {
		return nil, sqlerr.New(sqlerr.InvalidTableDefinition, "a source needs at least one column")
	}
	for _, o := range s.Options {
		if o.Key == "connector" && strings.EqualFold(o.Value, "kafka") {
			for _, pc := range KafkaPseudoColumns {
				if !seen[pc.Name] {
					def.Columns = append(def.Columns, pc)
					continue
				}
				for _, c := range def.Columns {
					if c.Name == pc.Name && c.Type.Kind != pc.Type.Kind {
						return nil, sqlerr.New(sqlerr.DatatypeMismatch, "column %q of a kafka source is the record's %s and must be of type %s, not %s",
							c.Name, strings.TrimPrefix(c.Name, "_"), pc.Type, c.Type)
					}
				}
			}
		}
	}
	for _, o := range s.Options {
		def.Options[o.Key] = o.Value
		switch o.Key {
		case "connector":
			v := strings.ToLower(o.Value)
			if !connectors[v] {
				return nil, optErr(sqlerr.InvalidParameterValue, o, "unknown connector %q; the connectors are 'log', 'datagen', 'kafka' and 'nexmark'", o.Value)
			}
			def.Connector = v
		case "start_offset":
			// Checked by the stream that reads the source; the source
			// only records the default.
			if v := strings.ToLower(o.Value); v != "earliest" && v != "latest" {
				return nil, optErr(sqlerr.InvalidParameterValue, o, "invalid value for option \"start_offset\": %q (want 'earliest' or 'latest')", o.Value)
			}
		case "event_time":
			i := -1
			for j, c := range def.Columns {
				if c.Name == o.Value {
					i = j
				}
			}
			if i < 0 {
				return nil, optErr(sqlerr.UndefinedColumn, o, "event_time column %q does not exist", o.Value)
			}
			if def.Columns[i].Type.Kind != sqltypes.KindTimestamp {
				return nil, optErr(sqlerr.DatatypeMismatch, o, "event_time column %q is of type %s, not timestamp", o.Value, def.Columns[i].Type)
			}
			def.EventTime = o.Value
		case "max_rows_per_batch":
			if _, err := maxRowsOption(o); err != nil {
				return nil, err
			}
		case "watermark_delay":
			d, err := parseDurationOption(o.Value)
			if err != nil || d < 0 {
				return nil, optErr(sqlerr.InvalidParameterValue, o, "invalid value for option \"watermark_delay\": %q (want a duration such as '5s')", o.Value)
			}
			def.WatermarkDelay = d
		}
	}
	if _, ok := def.Options["watermark_delay"]; ok && def.EventTime == "" {
		return nil, sqlerr.New(sqlerr.InvalidParameterValue, "watermark_delay needs event_time")
	}
	return &plan.CreateSource{Def: def, SQL: text}, nil
}

// nameFree checks that no table, source or stream is called name.
func (b *binder) nameFree(name string) error {
	if _, err := b.env.Catalog.TableDef(name); err == nil {
		return sqlerr.New(sqlerr.DuplicateTable, "relation %q already exists", name)
	}
	if _, ok := b.env.Catalog.SourceDef(name); ok {
		return sqlerr.New(sqlerr.DuplicateTable, "source %q already exists", name)
	}
	if _, ok := b.env.Catalog.StreamColumns(name); ok {
		return sqlerr.New(sqlerr.DuplicateTable, "stream %q already exists", name)
	}
	if IsSystemTable(name) {
		return sqlerr.New(sqlerr.DuplicateTable, "relation %q already exists (a system table)", name)
	}
	return nil
}

// maxRowsOption reads a max_rows_per_batch option (of a source, a stream
// or a fed table): a positive integer.
func maxRowsOption(o Option) (int, error) {
	n, err := strconv.Atoi(o.Value)
	if err != nil || n <= 0 {
		return 0, optErr(sqlerr.InvalidParameterValue, o, "invalid value for option \"max_rows_per_batch\": %q (want a positive integer)", o.Value)
	}
	return n, nil
}

// optErr is an error about one option, positioned at its key.
func optErr(code string, o Option, format string, args ...any) error {
	e := sqlerr.New(code, format, args...)
	e.Position = o.Pos
	return e
}

// parseDurationOption reads a duration written as Go does ('100ms',
// '1m30s') or as a PostgreSQL interval without months ('5 seconds',
// '1 minute').
func parseDurationOption(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Duration(n) * time.Millisecond, nil
	}
	v, err := sqltypes.ParseText(sqltypes.IntervalT, s)
	if err != nil {
		return 0, err
	}
	iv := v.(sqltypes.Interval)
	if iv.Months != 0 {
		return 0, sqlerr.New(sqlerr.InvalidParameterValue, "a duration cannot use months or years")
	}
	return time.Duration(iv.Days)*24*time.Hour + time.Duration(iv.Micros)*time.Microsecond, nil
}

// ParseTrigger reads a trigger option: an interval ('100ms', '1s',
// '0s'), 'once' or 'available_now'.
func ParseTrigger(s string) (plan.Trigger, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "once":
		return plan.Trigger{Kind: plan.TriggerOnce}, nil
	case "available_now", "availablenow":
		return plan.Trigger{Kind: plan.TriggerAvailableNow}, nil
	}
	d, err := parseDurationOption(s)
	if err != nil || d < 0 {
		return plan.Trigger{}, sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for option \"trigger\": %q (want an interval such as '1s', or 'once' or 'available_now')", s)
	}
	return plan.Trigger{Kind: plan.TriggerInterval, Interval: d}, nil
}

// bindCreateStream binds the stream's query over its source and checks
// that it can run incrementally.
func (b *binder) bindCreateStream(s *CreateStreamStmt, text string) (plan.Statement, error) {
	if !s.OrReplace && !b.env.Restoring {
		if err := b.nameFree(s.Name); err != nil {
			return nil, err
		}
	}
	opts := plan.StreamOptions{Trigger: plan.Trigger{Kind: plan.TriggerInterval, Interval: time.Second}, Sink: plan.SinkTable, FailOnDataLoss: true}
	var modeOpt *Option
	var sinkOpts []Option
	for i, o := range s.Options {
		switch o.Key {
		case "trigger":
			t, err := ParseTrigger(o.Value)
			if err != nil {
				return nil, withPos(err, o.Pos)
			}
			opts.Trigger = t
		case "sink":
			switch v := plan.SinkKind(strings.ToLower(o.Value)); v {
			case plan.SinkTable, plan.SinkLog, plan.SinkNone, plan.SinkKafka:
				opts.Sink = v
			default:
				return nil, optErr(sqlerr.InvalidParameterValue, o, "invalid value for option \"sink\": %q (want 'table', 'log', 'kafka' or 'none')", o.Value)
			}
		case "brokers", "topic", "format", "key":
			// The Kafka sink's options, checked once the sink is known.
			if opts.SinkOptions == nil {
				opts.SinkOptions = map[string]string{}
			}
			opts.SinkOptions[o.Key] = o.Value
			sinkOpts = append(sinkOpts, o)
		case "max_rows_per_batch":
			n, err := maxRowsOption(o)
			if err != nil {
				return nil, err
			}
			opts.MaxRowsPerBatch = n
		case "output_mode":
			switch v := plan.OutputMode(strings.ToLower(o.Value)); v {
			case plan.OutputAppend, plan.OutputUpdate:
				opts.OutputMode = v
				modeOpt = &s.Options[i]
			default:
				return nil, optErr(sqlerr.InvalidParameterValue, o, "invalid value for option \"output_mode\": %q (want 'append' or 'update')", o.Value)
			}
		case "fail_on_data_loss":
			switch strings.ToLower(o.Value) {
			case "true", "on", "yes", "1":
				opts.FailOnDataLoss = true
			case "false", "off", "no", "0":
				opts.FailOnDataLoss = false
			default:
				return nil, optErr(sqlerr.InvalidParameterValue, o, "invalid value for option \"fail_on_data_loss\": %q (want true or false)", o.Value)
			}
		default:
			return nil, optErr(sqlerr.SyntaxError, o, "unrecognized stream option %q (the options are trigger, sink, max_rows_per_batch, output_mode, fail_on_data_loss, and for sink 'kafka' brokers, topic, format, key)", o.Key)
		}
	}
	if err := checkSinkOptions(opts, sinkOpts); err != nil {
		return nil, err
	}

	rs, ok := s.Query.AST.(ast.ResultSetNode)
	if !ok {
		return nil, sqlerr.New(sqlerr.SyntaxError, "CREATE STREAM needs AS SELECT ...")
	}
	if len(s.Query.ParamOrder) > 0 || s.Query.NumParams > 0 {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "a stream's query cannot have parameters")
	}
	node, err := b.bindQuery(rs, nil)
	if err != nil {
		return nil, err
	}
	src, err := b.streamSource(node)
	if err != nil {
		return nil, err
	}
	agg, err := streamAggregate(node)
	if err != nil {
		return nil, err
	}
	if opts.OutputMode == "" {
		opts.OutputMode = plan.OutputAppend
		if agg != nil {
			opts.OutputMode = plan.OutputUpdate
		}
	}
	if opts.OutputMode == plan.OutputAppend && agg != nil {
		if agg.Window == nil {
			return nil, optErr(sqlerr.FeatureNotSupported, *modeOptOr(modeOpt), "output_mode 'append' needs an event-time window (GROUP BY TUMBLE(...) or HOP(...)): without one no group is ever final; use output_mode = 'update'")
		}
		def, _ := b.env.Catalog.SourceDef(src)
		if def.EventTime == "" {
			return nil, optErr(sqlerr.FeatureNotSupported, *modeOptOr(modeOpt), "output_mode 'append' needs a watermark: source %q declares no event_time", src)
		}
	}
	if k := opts.SinkOptions["key"]; k != "" && opts.Sink == plan.SinkKafka {
		found := false
		for _, c := range node.Columns() {
			found = found || c.Name == k
		}
		if !found {
			o := sinkOpts[0]
			for _, so := range sinkOpts {
				if so.Key == "key" {
					o = so
				}
			}
			return nil, optErr(sqlerr.UndefinedColumn, o, "key column %q is not an output column of the stream", k)
		}
	}
	st := &plan.CreateStream{Name: s.Name, OrReplace: s.OrReplace, SQL: text, Source: src, Query: node, Options: opts}
	if agg != nil && opts.Sink == plan.SinkTable {
		if st.Key, err = groupKeyColumns(node, agg); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// checkSinkOptions checks the Kafka sink's options: brokers and topic are
// needed, format is 'json', and none of them goes with another sink.
func checkSinkOptions(opts plan.StreamOptions, given []Option) error {
	if opts.Sink != plan.SinkKafka {
		if len(given) > 0 {
			return optErr(sqlerr.InvalidParameterValue, given[0], "option %q is for sink 'kafka', not sink '%s'", given[0].Key, opts.Sink)
		}
		return nil
	}
	for _, o := range given {
		if o.Key == "format" && !strings.EqualFold(o.Value, "json") {
			return optErr(sqlerr.InvalidParameterValue, o, "invalid value for option \"format\": %q (want 'json')", o.Value)
		}
		if strings.TrimSpace(o.Value) == "" {
			return optErr(sqlerr.InvalidParameterValue, o, "option %q cannot be empty", o.Key)
		}
	}
	for _, k := range []string{"brokers", "topic"} {
		if opts.SinkOptions[k] == "" {
			return sqlerr.New(sqlerr.InvalidParameterValue, "sink 'kafka' needs option %q", k)
		}
	}
	return nil
}

func modeOptOr(o *Option) *Option {
	if o == nil {
		return &Option{}
	}
	return o
}

func withPos(err error, pos int) error {
	if e, ok := err.(*sqlerr.Error); ok && e.Position == 0 {
		e.Position = pos
	}
	return err
}

// streamSource returns the one source a stream's plan reads, and refuses
// plans that cannot run incrementally over it.
func (b *binder) streamSource(n plan.Node) (string, error) {
	var sources []string
	var walk func(n plan.Node, outerRight bool) error
	walk = func(n plan.Node, outerRight bool) error {
		switch n := n.(type) {
		case *plan.Input:
			if IsSystemTable(n.Source) {
				return sqlerr.New(sqlerr.FeatureNotSupported, "a stream cannot read the system table %q", n.Source)
			}
			if outerRight {
				return sqlerr.New(sqlerr.FeatureNotSupported, "source %q cannot be the right side of a LEFT JOIN in a stream: put the source on the left", n.Source)
			}
			sources = append(sources, n.Source)
		case *plan.Scan:
			if n.Version != 0 || n.VersionParam != nil {
				return sqlerr.New(sqlerr.FeatureNotSupported,
					"AS OF VERSION is not supported in a stream's query: each batch reads the current version of table %q, pinned when the batch is planned", n.Table)
			}
		case *plan.Sort:
			return sqlerr.New(sqlerr.FeatureNotSupported, "ORDER BY is not supported in a stream's query: a stream has no end to sort")
		case *plan.Limit:
			return sqlerr.New(sqlerr.FeatureNotSupported, "LIMIT and OFFSET are not supported in a stream's query")
		case *plan.Distinct:
			return sqlerr.New(sqlerr.FeatureNotSupported, "SELECT DISTINCT is not supported in a stream's query; use GROUP BY")
		case *plan.UnionAll:
			return sqlerr.New(sqlerr.FeatureNotSupported, "UNION is not supported in a stream's query")
		case *plan.Join:
			if err := walk(n.Left, outerRight); err != nil {
				return err
			}
			return walk(n.Right, outerRight || n.Kind == plan.JoinLeft)
		}
		for _, c := range n.Children() {
			if err := walk(c, outerRight); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(n, false); err != nil {
		return "", err
	}
	switch len(sources) {
	case 0:
		return "", sqlerr.New(sqlerr.FeatureNotSupported, "a stream's query must read a source (CREATE SOURCE); it reads only tables")
	case 1:
		return sources[0], nil
	}
	return "", sqlerr.New(sqlerr.FeatureNotSupported, "a stream reads one source: joining source %q with source %q (a stream-to-stream join) is not supported; join tables instead, as lookup joins", sources[0], sources[1])
}

// streamAggregate returns the stream's Aggregate node, nil for a
// stateless stream. It must sit on the chain of Projects and Filters at
// the top of the plan: an aggregate inside a join cannot be maintained
// incrementally here.
func streamAggregate(n plan.Node) (*plan.Aggregate, error) {
	count := 0
	var walk func(n plan.Node)
	walk = func(n plan.Node) {
		if _, ok := n.(*plan.Aggregate); ok {
			count++
		}
		for _, c := range n.Children() {
			walk(c)
		}
	}
	walk(n)
	if count == 0 {
		return nil, nil
	}
	if count > 1 {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "a stream's query may aggregate once; nested aggregates are not supported")
	}
	for cur := n; ; {
		switch c := cur.(type) {
		case *plan.Project:
			cur = c.Input
			continue
		case *plan.Filter:
			cur = c.Input
			continue
		case *plan.Aggregate:
			return c, nil
		}
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "a stream's aggregate must be its outermost operation (joins go below GROUP BY)")
	}
}

// groupKeyColumns maps each GROUP BY key to the output column that
// carries it: a table sink upserts by them. A window's end may be left
// out when its start is selected, and the other way round.
func groupKeyColumns(root plan.Node, agg *plan.Aggregate) ([]int, error) {
	// Follow the projections from the aggregate up to the root: at each
	// level, where each aggregate output column is.
	where := make([]int, len(agg.Cols)) // aggregate column -> current column, -1 lost
	for i := range where {
		where[i] = i
	}
	var chain []plan.Node
	for cur := root; cur != plan.Node(agg); {
		chain = append(chain, cur)
		cur = cur.Children()[0]
	}
	for i := len(chain) - 1; i >= 0; i-- {
		p, ok := chain[i].(*plan.Project)
		if !ok {
			continue
		}
		next := make([]int, len(where))
		for k, w := range where {
			next[k] = -1
			if w < 0 {
				continue
			}
			for j, e := range p.Exprs {
				if r, ok := e.(*plan.ColumnRef); ok && r.Index == w {
					next[k] = j
					break
				}
			}
		}
		where = next
	}
	var key []int
	var missing []string
	for k := range agg.GroupBy {
		if where[k] >= 0 {
			key = append(key, where[k])
			continue
		}
		if agg.Window != nil {
			other := -1
			switch k {
			case agg.Window.StartKey:
				other = agg.Window.EndKey
			case agg.Window.EndKey:
				other = agg.Window.StartKey
			}
			if other >= 0 && where[other] >= 0 {
				continue
			}
		}
		missing = append(missing, agg.GroupBy[k].String())
	}
	if len(missing) > 0 {
		e := sqlerr.New(sqlerr.FeatureNotSupported, "sink = 'table' upserts each group by its key, so the select list must include every GROUP BY expression (missing: %s)", strings.Join(missing, ", "))
		e.Hint = "add them to the select list, or use sink = 'log' or 'none'"
		return nil, e
	}
	return key, nil
}
