package exec

import (
	"context"
	"fmt"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// Build turns a plan tree into a tree of operators. Expressions are
// compiled, LIMIT and OFFSET are evaluated, and every table the plan
// scans is pinned in env at its current version (once per table per
// statement; a Scan AS OF VERSION n at version n, once per table and
// version), so the operators read a consistent snapshot. Nothing is
// read from the inputs until the first Next. The caller closes the
// returned operator, which closes the whole tree.
func Build(ctx context.Context, env *Env, n plan.Node) (Operator, error) {
	if env == nil {
		return nil, internalf("build without an environment")
	}
	return build(ctx, env, n)
}

// build is one type switch over the plan node kinds. On error every
// operator already built for the subtree is closed.
func build(ctx context.Context, env *Env, n plan.Node) (Operator, error) {
	mem, eenv := env.mem(), env.exprEnv()
	switch n := n.(type) {
	case *plan.Input:
		op, ok := env.Inputs[n.Source]
		if !ok {
			if recs, ok := env.InputRecords[n.Source]; ok {
				return NewRecordsOperator(schemaOf(n.Cols), recs), nil
			}
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "source %q can only be read by a stream (CREATE STREAM ... AS SELECT)", n.Source)
		}
		return op, nil
	case *plan.Scan:
		snap, err := env.scanSnapshot(n)
		if err != nil {
			return nil, err
		}
		op, err := newScanOp(snap, n.Table, n.Cols)
		if err != nil {
			return nil, err
		}
		return op, nil

	case *plan.Values:
		return &valuesOp{schema: schemaOf(n.Cols), rows: n.Rows, mem: mem, eenv: eenv}, nil

	case *plan.Filter:
		pred, err := expr.Compile(n.Pred)
		if err != nil {
			return nil, err
		}
		input, err := build(ctx, env, n.Input)
		if err != nil {
			return nil, err
		}
		return &filterOp{input: input, pred: pred, mem: mem, eenv: eenv}, nil

	case *plan.Project:
		if len(n.Exprs) != len(n.Cols) {
			return nil, internalf("project has %d expressions for %d columns", len(n.Exprs), len(n.Cols))
		}
		progs := make([]*expr.Program, len(n.Exprs))
		for i, e := range n.Exprs {
			p, err := expr.Compile(e)
			if err != nil {
				return nil, err
			}
			progs[i] = p
		}
		input, err := build(ctx, env, n.Input)
		if err != nil {
			return nil, err
		}
		return &projectOp{input: input, exprs: progs, schema: schemaOf(n.Cols), eenv: eenv}, nil

	case *plan.Aggregate:
		input, err := build(ctx, env, n.Input)
		if err != nil {
			return nil, err
		}
		op, err := newHashAggOp(input, n, mem, eenv)
		if err != nil {
			return nil, closeOnError(err, input)
		}
		return op, nil

	case *plan.Window:
		if _, _, err := windowBounds(n); err != nil {
			return nil, err
		}
		input, err := build(ctx, env, n.Input)
		if err != nil {
			return nil, err
		}
		op, err := newWindowOp(input, n, mem, eenv)
		if err != nil {
			return nil, closeOnError(err, input)
		}
		return op, nil

	case *plan.Sort:
		keys := make([]sortKey, len(n.Keys))
		for i, k := range n.Keys {
			p, err := expr.Compile(k.Expr)
			if err != nil {
				return nil, err
			}
			keys[i] = sortKey{prog: p, desc: k.Desc, nullsFirst: k.NullsFirst}
		}
		input, err := build(ctx, env, n.Input)
		if err != nil {
			return nil, err
		}
		return &sortOp{input: input, keys: keys, mem: mem, eenv: eenv}, nil

	case *plan.Limit:
		count, err := limitValue(ctx, eenv, n.Count, "LIMIT", sqlerr.InvalidRowCountInLimit)
		if err != nil {
			return nil, err
		}
		offset, err := limitValue(ctx, eenv, n.Offset, "OFFSET", sqlerr.InvalidRowCountInOffset)
		if err != nil {
			return nil, err
		}
		if offset < 0 {
			offset = 0
		}
		input, err := build(ctx, env, n.Input)
		if err != nil {
			return nil, err
		}
		return &limitOp{input: input, count: count, skip: offset}, nil

	case *plan.Distinct:
		input, err := build(ctx, env, n.Input)
		if err != nil {
			return nil, err
		}
		op, err := newDistinctOp(input, mem)
		if err != nil {
			return nil, closeOnError(err, input)
		}
		return op, nil

	case *plan.Join:
		left, err := build(ctx, env, n.Left)
		if err != nil {
			return nil, err
		}
		var cached *joinBuild
		var slot, sig string
		if env.Lookups != nil {
			var ok bool
			if sig, ok, err = lookupSignature(env, n.Right); err != nil {
				return nil, closeOnError(err, left)
			}
			if ok {
				slot = fmt.Sprintf("join%d", env.lookupSeq)
				env.lookupSeq++
				cached = env.Lookups.get(slot, sig)
			}
		}
		var right Operator
		if cached != nil {
			// The build side is cached: nothing is read from the right.
			right = NewRecordsOperator(schemaOf(n.Right.Columns()), nil)
		} else if right, err = build(ctx, env, n.Right); err != nil {
			return nil, closeOnError(err, left)
		}
		op, err := newHashJoinOp(left, right, n, mem, eenv)
		if err != nil {
			if cached != nil {
				cached.build.Release()
			}
			return nil, closeOnError(err, left, right)
		}
		if slot != "" {
			op.cache, op.slot, op.sig, op.cached = env.Lookups, slot, sig, cached
		}
		return op, nil

	case *plan.UnionAll:
		schema := schemaOf(n.Cols)
		inputs := make([]Operator, 0, len(n.Inputs))
		for _, in := range n.Inputs {
			op, err := build(ctx, env, in)
			if err != nil {
				return nil, closeOnError(err, inputs...)
			}
			inputs = append(inputs, op)
		}
		return &unionAllOp{inputs: inputs, schema: schema}, nil

	case nil:
		return nil, internalf("nil plan node")
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "plan node %T is not supported by the executor", n)
}

// closeOnError closes ops and returns err.
func closeOnError(err error, ops ...Operator) error {
	_ = closeAll(ops...)
	return err
}

// limitValue evaluates a LIMIT or OFFSET expression: -1 when e is nil or
// NULL (no limit), an error with code when negative.
func limitValue(ctx context.Context, eenv *expr.Env, e plan.Expr, what, code string) (int64, error) {
	if e == nil {
		return -1, nil
	}
	v, err := expr.EvalScalar(ctx, eenv, e)
	if err != nil {
		return 0, fmt.Errorf("exec: evaluating %s: %w", what, err)
	}
	switch v := v.(type) {
	case nil:
		return -1, nil
	case int64:
		if v < 0 {
			return 0, sqlerr.New(code, "%s must not be negative", what)
		}
		return v, nil
	}
	return 0, sqlerr.New(sqlerr.DatatypeMismatch, "argument of %s must be type bigint, not %T", what, v)
}
