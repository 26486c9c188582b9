package plan

import (
	"fmt"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// WindowKind is the kind of an event-time window.
type WindowKind int

// The window kinds.
const (
	// WindowTumble assigns each row to the one window [k*Size, (k+1)*Size)
	// holding its time.
	WindowTumble WindowKind = iota
	// WindowHop assigns each row to every window [k*Slide, k*Slide+Size)
	// holding its time: Size/Slide windows when Slide divides Size.
	WindowHop
)

func (k WindowKind) String() string {
	if k == WindowHop {
		return "hop"
	}
	return "tumble"
}

// Window assigns event-time windows. Its output is the input's columns
// followed by two TIMESTAMP columns, the window's start and its
// (exclusive) end. Windows are aligned to the Unix epoch. A row whose
// Time is NULL belongs to no window and is dropped. For WindowHop a row is
// emitted once per window holding it, in order of window start; for
// WindowTumble Slide equals Size.
type Window struct {
	Input Node
	Kind  WindowKind
	Time  Expr // a TIMESTAMP over Input's columns
	Size  time.Duration
	Slide time.Duration
	Cols  []Column // Input's columns, then window_start, window_end
}

// NewWindow returns a Window over input with its output columns filled.
func NewWindow(input Node, kind WindowKind, t Expr, size, slide time.Duration) *Window {
	cols := append(append([]Column{}, input.Columns()...),
		Column{Name: "window_start", Type: sqltypes.Timestamp},
		Column{Name: "window_end", Type: sqltypes.Timestamp})
	if kind == WindowTumble {
		slide = size
	}
	return &Window{Input: input, Kind: kind, Time: t, Size: size, Slide: slide, Cols: cols}
}

// Columns implements Node.
func (n *Window) Columns() []Column { return n.Cols }

// Children implements Node.
func (n *Window) Children() []Node { return []Node{n.Input} }

// Describe implements Node.
func (n *Window) Describe() string {
	if n.Kind == WindowHop {
		return fmt.Sprintf("Window hop time=%s slide=%s size=%s", n.Time, FormatDuration(n.Slide), FormatDuration(n.Size))
	}
	return fmt.Sprintf("Window tumble time=%s size=%s", n.Time, FormatDuration(n.Size))
}

var _ Node = (*Window)(nil)
