package cfn

// Fn is an intrinsic function or a condition reference: a one-key object such as
// {"Ref": "VPC"} or {"Fn::GetAtt": ["ALB", "DNSName"]}.
type Fn = map[string]any

// Pseudo parameters.
const (
	AccountID = "AWS::AccountId"
	NoValueID = "AWS::NoValue"
	Partition = "AWS::Partition"
	Region    = "AWS::Region"
	StackName = "AWS::StackName"
	StackID   = "AWS::StackId"
	URLSuffix = "AWS::URLSuffix"
)

// Ref returns {"Ref": name}: a parameter's value, a resource's primary identifier or a pseudo
// parameter.
func Ref(name string) Fn { return Fn{"Ref": name} }

// NoValue removes the property it is the value of (usually inside If).
func NoValue() Fn { return Ref(NoValueID) }

// GetAtt returns {"Fn::GetAtt": [resource, attribute]}.
func GetAtt(resource, attribute string) Fn {
	return Fn{"Fn::GetAtt": []any{resource, attribute}}
}

// Sub returns {"Fn::Sub": text}; ${Name} and ${Resource.Attr} in text are replaced.
func Sub(text string) Fn { return Fn{"Fn::Sub": text} }

// SubWith returns {"Fn::Sub": [text, vars]}, with extra variables for the placeholders.
func SubWith(text string, vars map[string]any) Fn {
	return Fn{"Fn::Sub": []any{text, vars}}
}

// Join returns {"Fn::Join": [delimiter, parts]}.
func Join(delimiter string, parts ...any) Fn {
	return Fn{"Fn::Join": []any{delimiter, parts}}
}

// Select returns {"Fn::Select": [index, list]}.
func Select(index int, list any) Fn {
	return Fn{"Fn::Select": []any{index, list}}
}

// Split returns {"Fn::Split": [delimiter, text]}.
func Split(delimiter string, text any) Fn {
	return Fn{"Fn::Split": []any{delimiter, text}}
}

// GetAZs returns {"Fn::GetAZs": region}; an empty region means the stack's.
func GetAZs(region any) Fn { return Fn{"Fn::GetAZs": region} }

// AZ returns the index-th availability zone of the stack's region.
func AZ(index int) Fn { return Select(index, GetAZs("")) }

// ImportValue returns {"Fn::ImportValue": name}, another stack's exported output.
func ImportValue(name any) Fn { return Fn{"Fn::ImportValue": name} }

// FindInMap returns {"Fn::FindInMap": [mapping, topKey, secondKey]}.
func FindInMap(mapping string, topKey, secondKey any) Fn {
	return Fn{"Fn::FindInMap": []any{mapping, topKey, secondKey}}
}

// Base64 returns {"Fn::Base64": value}.
func Base64(value any) Fn { return Fn{"Fn::Base64": value} }

// If returns {"Fn::If": [condition, whenTrue, whenFalse]}.
func If(condition string, whenTrue, whenFalse any) Fn {
	return Fn{"Fn::If": []any{condition, whenTrue, whenFalse}}
}

// Equals returns the condition function {"Fn::Equals": [a, b]}.
func Equals(a, b any) Fn { return Fn{"Fn::Equals": []any{a, b}} }

// Not returns the condition function {"Fn::Not": [condition]}.
func Not(condition any) Fn { return Fn{"Fn::Not": []any{condition}} }

// And returns the condition function {"Fn::And": conditions} (2 to 10 of them).
func And(conditions ...any) Fn { return Fn{"Fn::And": conditions} }

// Or returns the condition function {"Fn::Or": conditions} (2 to 10 of them).
func Or(conditions ...any) Fn { return Fn{"Fn::Or": conditions} }

// Condition returns {"Condition": name}, a reference to a named condition inside a condition
// function.
func Condition(name string) Fn { return Fn{"Condition": name} }

// Tag is one entry of a resource's Tags list.
type Tag struct {
	Key   string `json:"Key"`
	Value any    `json:"Value"`
}
