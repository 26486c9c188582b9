package main

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/sluice-sql/sluice/"

// allowed lists, per package prefix, which of Sluice's packages it may
// import. Data flows one way: server -> planner -> exec -> sinks, with
// catalog and checkpoint beside it importing nothing of ours.
var allowed = []struct {
	pkg     string
	imports []string
}{
	{"catalog", []string{"catalog"}},
	{"checkpoint", []string{"checkpoint", "catalog/sqlerr"}},
	{"planner", []string{"planner", "catalog"}},
	{"exec", []string{"exec", "planner/plan", "catalog", "checkpoint"}},
	{"server/pgwire", []string{"server/pgwire", "catalog/sqltypes", "catalog/sqlerr"}},
	{"server", []string{"server", "planner", "exec", "catalog", "checkpoint"}},
	{"sqltests", []string{"sqltests", "server", "catalog", "exec/stream"}},
	// The binary; `sluice bench` also reads the Nexmark generator
	// directly (its generator-only and hand-written-loop baselines) and,
	// like sqltests, drives the server's stream manager (waits for
	// batches, subscribes to check answers).
	{"cmd", []string{"cmd", "server", "exec/source", "exec/stream"}},
}

func TestPackagesImportOnlyDownstreamLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		rule := -1
		for i, r := range allowed {
			if (pkg == r.pkg || strings.HasPrefix(pkg, r.pkg+"/")) && (rule < 0 || len(r.pkg) > len(allowed[rule].pkg)) {
				rule = i
			}
		}
		if rule < 0 {
			t.Errorf("package %s has no layering rule; add one", pkg)
			continue
		}
		checked++
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			dep := strings.TrimPrefix(imp, module)
			ok := false
			for _, a := range allowed[rule].imports {
				if dep == a || strings.HasPrefix(dep, a+"/") {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s imports %s, which its layer may not", pkg, dep)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked only %d packages; go list output was:\n%s", checked, out)
	}
}
