package catalog

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsNothingOfSluiceButItsLeaves keeps catalog at the bottom of
// the dependency graph: it may import only catalog/sqltypes and
// catalog/sqlerr of Sluice's packages.
func TestImportsNothingOfSluiceButItsLeaves(t *testing.T) {
	const module = "github.com/sluice-sql/sluice/"
	allowed := map[string]bool{
		module + "catalog/sqltypes": true,
		module + "catalog/sqlerr":   true,
	}
	for _, dir := range []string{".", "sqltypes", "sqlerr"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if strings.HasPrefix(path, module) && !allowed[path] {
					t.Errorf("%s imports %s; catalog may import only catalog/sqltypes and catalog/sqlerr", name, path)
				}
			}
		}
	}
}
