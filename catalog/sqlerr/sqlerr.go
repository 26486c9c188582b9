// Package sqlerr is the error type that carries a SQLSTATE from where an
// error is born to the wire, where the server turns it into an ErrorResponse.
//
// It is a leaf package: it imports nothing of Sluice's, so every layer
// (catalog, planner, exec, server) may attach a SQLSTATE.
package sqlerr

import (
	"errors"
	"fmt"
)

// SQLSTATE codes used by Sluice. Names follow PostgreSQL's errcodes.txt.
const (
	SyntaxError                  = "42601"
	UndefinedTable               = "42P01"
	UndefinedColumn              = "42703"
	UndefinedFunction            = "42883"
	DuplicateTable               = "42P07"
	DuplicateColumn              = "42701"
	AmbiguousColumn              = "42702"
	DatatypeMismatch             = "42804"
	InvalidColumnReference       = "42P10"
	GroupingError                = "42803"
	UndefinedObject              = "42704"
	UndefinedParameter           = "42P02"
	InvalidTableDefinition       = "42P16"
	UniqueViolation              = "23505"
	NotNullViolation             = "23502"
	DivisionByZero               = "22012"
	NumericValueOutOfRange       = "22003"
	InvalidTextRepresentation    = "22P02"
	InvalidDatetimeFormat        = "22007"
	DatetimeFieldOverflow        = "22008"
	StringDataRightTruncation    = "22001"
	InvalidParameterValue        = "22023"
	InvalidRegularExpression     = "2201B"
	CardinalityViolation         = "21000"
	FeatureNotSupported          = "0A000"
	DependentObjectsStillExist   = "2BP01"
	ProtocolViolation            = "08P01"
	ConnectionFailure            = "08006"
	QueryCanceled                = "57014"
	AdminShutdown                = "57P01"
	WrongObjectType              = "42809"
	ObjectNotInPrerequisiteState = "55000"
	ProgramLimitExceeded         = "54000"
	AmbiguousFunction            = "42725"
	DuplicateObject              = "42710"
	InvalidName                  = "42602"
	DuplicatePreparedStatement   = "42P05"
	DuplicateCursor              = "42P03"
	InvalidSQLStatementName      = "26000"
	InvalidCursorName            = "34000"
	InFailedSQLTransaction       = "25P02"
	CantChangeRuntimeParam       = "55P02"
	InvalidBinaryRepresentation  = "22P03"
	CharacterNotInRepertoire     = "22021"
	IntervalFieldOverflow        = "22015"
	InvalidTimeZoneDisplacement  = "22009"
	SubstringError               = "22011"
	InvalidEscapeSequence        = "22025"
	InvalidArgumentForPower      = "2201F"
	InvalidRowCountInLimit       = "2201W"
	InvalidRowCountInOffset      = "2201X"
	TooManyColumns               = "54011"
	DataCorrupted                = "XX001"
	InternalError                = "XX000"
	IOError                      = "58030"
)

// Error is an error with a SQLSTATE. Position, when non-zero, is the
// 1-based character (not byte) position in the user's original SQL text.
type Error struct {
	Code     string
	Message  string
	Detail   string
	Hint     string
	Position int
	Err      error // wrapped cause, may be nil
}

func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" {
		return e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the wrapped cause.
func (e *Error) Unwrap() error { return e.Err }

// SQLState returns the five-character SQLSTATE code.
func (e *Error) SQLState() string { return e.Code }

// New returns an error with the given SQLSTATE and a formatted message.
// A %w verb in format wraps its argument as usual.
func New(code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), Err: errors.Unwrap(err)}
}

// Wrap attaches a SQLSTATE to err. A nil err returns nil.
func Wrap(code string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Message: err.Error(), Err: err}
}

// Code returns the SQLSTATE of err: the outermost *Error's code, or
// InternalError ("XX000") when err carries none.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return InternalError
}

// As returns the outermost *Error in err's chain, or a new XX000 *Error
// wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: InternalError, Message: err.Error(), Err: err}
}
