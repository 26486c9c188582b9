package catalog

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

func TestObjectsSurviveReopenInCreationOrder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []Object{
		{Kind: "source", Name: "clicks", SQL: "CREATE SOURCE clicks (a INT)"},
		{Kind: "stream", Name: "s1", SQL: "CREATE STREAM s1 AS SELECT a FROM clicks"},
		{Kind: "stream", Name: "s0", SQL: "CREATE STREAM s0 AS SELECT a FROM clicks"},
	} {
		if err := c.PutObject(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	// Replacing keeps the creation order; deleting removes.
	if err := c.PutObject(ctx, Object{Kind: "stream", Name: "s1", SQL: "x", Paused: true, Options: map[string]string{"trigger": "5s"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteObject(ctx, "stream", "s0"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteObject(ctx, "stream", "missing"); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := c.Objects()
	if len(got) != 2 || got[0].Name != "clicks" || got[1].Name != "s1" {
		t.Fatalf("objects after reopen: %+v", got)
	}
	if !got[1].Paused || got[1].SQL != "x" || got[1].Options["trigger"] != "5s" || got[1].Seq <= got[0].Seq {
		t.Fatalf("replaced object: %+v", got[1])
	}
	// A new object after reopen gets a Seq after every earlier one, even the deleted s0's.
	if err := c.PutObject(ctx, Object{Kind: "stream", Name: "s2", SQL: "y"}); err != nil {
		t.Fatal(err)
	}
	got = c.Objects()
	if got[2].Name != "s2" || got[2].Seq <= 3 {
		t.Fatalf("new object: %+v", got)
	}
	// Returned objects are copies.
	got[1].Options["trigger"] = "changed"
	if c.Objects()[1].Options["trigger"] != "5s" {
		t.Fatal("Objects returned the catalog's own map")
	}
}

func TestObjectsFileCorruptionIsXX001(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PutObject(ctx, Object{Kind: "source", Name: "a", SQL: "CREATE SOURCE a (x INT)"}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	path := filepath.Join(dir, objectsName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-3] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dir)
	if sqlerr.Code(err) != sqlerr.DataCorrupted {
		t.Fatalf("open with a damaged objects file: %v (code %s)", err, sqlerr.Code(err))
	}
}
