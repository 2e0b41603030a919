using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cadre.Expressions;

/// <summary>An operator of the filter DSL: its name, what its operand must be, and what it tests.</summary>
public sealed record FilterOperator(string Name, string Operand, string Description);

/// <summary>
/// The filter DSL: data, not code. An object maps field expressions (<c>"{{ context.event.payload.priority }}"</c>,
/// or the bare path <c>"context.event.payload.priority"</c>) to operator objects (<c>{"~in": ["high", "urgent"]}</c>);
/// <c>$and</c> and <c>$or</c> take lists of such objects and <c>$not</c> one. Every member of an object must
/// hold, and so must every operator in an operator object. Operands are JSON and may themselves be
/// templates (<c>{"~gt": "{{ context.threshold }}"}</c>). Parsed and checked once; evaluation is a pure
/// function of the values read.
/// </summary>
public sealed class Filter
{
    /// <summary>How long one <c>~regex</c> may run before the filter fails.</summary>
    public static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    public const int MaxDepth = 32;

    public static IReadOnlyList<FilterOperator> Operators { get; } =
    [
        new("~eq", "any JSON value", "The field equals the value (numbers by value, objects and arrays member by member)."),
        new("~neq", "any JSON value", "The field does not equal the value."),
        new("~gt", "number or string", "The field is greater (numbers numerically, strings ordinally, so ISO-8601 times in order)."),
        new("~gte", "number or string", "The field is greater or equal."),
        new("~lt", "number or string", "The field is less."),
        new("~lte", "number or string", "The field is less or equal."),
        new("~in", "array", "The field equals one of the values."),
        new("~nin", "array", "The field equals none of the values."),
        new("~contains", "any JSON value", "A text field contains the text, or an array field has an item equal to the value."),
        new("~ncontains", "any JSON value", "The opposite of ~contains."),
        new("~starts", "string", "A text field starts with the text."),
        new("~ends", "string", "A text field ends with the text."),
        new("~regex", "string (a .NET regular expression)", "A text field matches the pattern; each match may take at most 100 ms."),
        new("~exists", "boolean", "true: the field is present and not null; false: it is missing or null."),
        new("~empty", "boolean", "true: the field is missing, null, \"\", [] or {}; false: it is not."),
        new("~between", "array of two numbers or two strings", "low ≤ field ≤ high."),
    ];

    public static IReadOnlyList<FilterOperator> LogicalOperators { get; } =
    [
        new("$and", "array of filter objects", "Every filter holds (the same as listing their members in one object)."),
        new("$or", "array of filter objects", "At least one filter holds."),
        new("$not", "filter object", "The filter does not hold."),
    ];

    private static readonly HashSet<string> OperatorNames = [.. Operators.Select(o => o.Name)];

    private readonly Func<ExpressionScope, bool> _matches;

    private Filter(Func<ExpressionScope, bool> matches, IReadOnlyList<Expression> expressions)
    {
        _matches = matches;
        Expressions = expressions;
    }

    /// <summary>Every expression the filter reads, for checks such as which roots it uses.</summary>
    public IReadOnlyList<Expression> Expressions { get; }

    /// <summary>A filter that always holds (an absent or empty filter).</summary>
    public static Filter Always { get; } = new(_ => true, []);

    /// <summary>Parses and checks a filter; a <see cref="FilterException"/> names the path of the first problem.</summary>
    public static Filter Parse(JsonNode? filter, ExpressionOptions? options = null)
    {
        if (filter is null)
        {
            return Always;
        }

        var expressions = new List<Expression>();
        var matches = CompileObject(filter, "", options ?? ExpressionOptions.Default, expressions, 0);
        return new Filter(matches, expressions);
    }

    /// <summary>
    /// Whether the values in <paramref name="scope"/> pass. A field that cannot be read (a type
    /// mismatch in its expression) does not pass; a regular expression that runs too long throws
    /// <see cref="ExpressionEvaluationException"/>.
    /// </summary>
    public bool Matches(ExpressionScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return _matches(scope);
    }

    private static Func<ExpressionScope, bool> CompileObject(JsonNode? node, string path, ExpressionOptions options, List<Expression> expressions, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new FilterException(path, $"Filters may nest at most {MaxDepth} levels.");
        }

        if (node is not JsonObject obj)
        {
            throw new FilterException(path, "Must be an object of field: {operator: value} members, $and, $or or $not.");
        }

        var parts = new List<Func<ExpressionScope, bool>>();
        foreach (var (key, value) in obj)
        {
            var at = Join(path, key);
            switch (key)
            {
                case "$and" or "$or":
                    if (value is not JsonArray { Count: > 0 } list)
                    {
                        throw new FilterException(at, "Must be a non-empty array of filters.");
                    }

                    var children = list.Select((child, i) => CompileObject(child, $"{at}[{i}]", options, expressions, depth + 1)).ToArray();
                    parts.Add(key == "$and" ? scope => children.All(c => c(scope)) : scope => children.Any(c => c(scope)));
                    break;
                case "$not":
                    var inner = CompileObject(value, at, options, expressions, depth + 1);
                    parts.Add(scope => !inner(scope));
                    break;
                case var other when other.StartsWith('$'):
                    throw new FilterException(at, $"'{other}' is not a logical operator; use $and, $or or $not.");
                default:
                    parts.Add(CompileField(key, value, at, options, expressions));
                    break;
            }
        }

        var all = parts.ToArray();
        return all.Length == 1 ? all[0] : scope => all.All(p => p(scope));
    }

    private static Func<ExpressionScope, bool> CompileField(string field, JsonNode? operators, string path, ExpressionOptions options, List<Expression> expressions)
    {
        Expression expression;
        try
        {
            expression = field.Contains("{{", StringComparison.Ordinal) ? SingleExpression(field, options) : Expression.Parse(field, options);
        }
        catch (ExpressionSyntaxException ex)
        {
            throw new FilterException(path, $"The field is not a readable expression: {ex.Message}");
        }

        expressions.Add(expression);
        if (operators is not JsonObject { Count: > 0 } tests)
        {
            throw new FilterException(path, "Must be an object of operators such as {\"~eq\": \"high\"}.");
        }

        var checks = new List<Func<ExpressionScope, JsonNode?, bool>>();
        foreach (var (name, operand) in tests)
        {
            var at = $"{path}.{name}";
            if (!OperatorNames.Contains(name))
            {
                throw new FilterException(at, $"'{name}' is not a filter operator; the operators are {string.Join(", ", OperatorNames)}.");
            }

            JsonTemplate template;
            try
            {
                template = JsonTemplate.Parse(operand, options);
            }
            catch (JsonTemplateException ex)
            {
                throw new FilterException(at, ex.Syntax.Message);
            }

            expressions.AddRange(template.Expressions);
            var test = CompileOperator(name, operand, at);
            // A templated operand is rendered per evaluation, then checked like a literal one.
            checks.Add(template.Placeholders.Count == 0
                ? (_, value) => test(value, operand)
                : (scope, value) => test(value, template.Render(scope)));
        }

        var all = checks.ToArray();
        return scope =>
        {
            JsonNode? value;
            try
            {
                value = expression.Evaluate(scope);
            }
            catch (ExpressionEvaluationException)
            {
                return false;
            }

            foreach (var check in all)
            {
                if (!check(scope, value))
                {
                    return false;
                }
            }

            return true;
        };
    }

    private static Expression SingleExpression(string field, ExpressionOptions options)
    {
        var template = Template.Parse(field, options);
        return template.Expressions.Count() == 1 && field.Trim() is var trimmed && trimmed.StartsWith("{{", StringComparison.Ordinal) && trimmed.EndsWith("}}", StringComparison.Ordinal)
            ? template.Expressions.Single()
            : throw new ExpressionSyntaxException("A field is one {{ expression }} (or a bare path), not text around one", 0);
    }

    private static Func<JsonNode?, JsonNode?, bool> CompileOperator(string name, JsonNode? operand, string path)
    {
        // Operand shapes are checked now when they are literal, and at evaluation when templated.
        var templated = operand is JsonValue v && Values.TryString(v, out var s) && s.Contains("{{", StringComparison.Ordinal);
        switch (name)
        {
            case "~eq":
                return (field, value) => Values.AreEqual(field, value);
            case "~neq":
                return (field, value) => !Values.AreEqual(field, value);
            case "~gt" or "~gte" or "~lt" or "~lte":
                Require(templated || Values.Kind(operand) is JsonValueKind.Number or JsonValueKind.String, path, "Must be a number or a string.");
                return (field, value) => Compare(field, value) is { } order && name switch
                {
                    "~gt" => order > 0,
                    "~gte" => order >= 0,
                    "~lt" => order < 0,
                    _ => order <= 0,
                };
            case "~in" or "~nin":
                Require(templated || operand is JsonArray, path, "Must be an array of values.");
                var inList = name == "~in";
                return (field, value) => value is JsonArray list && list.Any(item => Values.AreEqual(field, item)) == inList;
            case "~contains" or "~ncontains":
                var contains = name == "~contains";
                return (field, value) => Contains(field, value) == contains;
            case "~starts" or "~ends":
                Require(templated || Values.Kind(operand) == JsonValueKind.String, path, "Must be a string.");
                var starts = name == "~starts";
                return (field, value) => Values.TryString(field, out var text) && Values.TryString(value, out var part)
                    && (starts ? text.StartsWith(part, StringComparison.Ordinal) : text.EndsWith(part, StringComparison.Ordinal));
            case "~regex":
                Require(templated || Values.Kind(operand) == JsonValueKind.String, path, "Must be a string holding a regular expression.");
                var regex = templated ? null : BuildRegex(((JsonValue)operand!).GetValue<string>(), path);
                return (field, value) => Values.TryString(field, out var text) && Values.TryString(value, out var pattern)
                    && IsMatch(regex ?? RuntimeRegex(pattern), text);
            case "~exists":
                Require(templated || Values.Kind(operand) is JsonValueKind.True or JsonValueKind.False, path, "Must be true or false.");
                return (field, value) => (field is not null) == Values.IsTruthy(value);
            case "~empty":
                Require(templated || Values.Kind(operand) is JsonValueKind.True or JsonValueKind.False, path, "Must be true or false.");
                return (field, value) => IsEmpty(field) == Values.IsTruthy(value);
            default:
                Require(templated || operand is JsonArray { Count: 2 } pair && Values.Kind(pair[0]) == Values.Kind(pair[1])
                    && Values.Kind(pair[0]) is JsonValueKind.Number or JsonValueKind.String, path, "Must be [low, high]: two numbers or two strings.");
                return (field, value) => value is JsonArray { Count: 2 } bounds
                    && Compare(field, bounds[0]) >= 0 && Compare(field, bounds[1]) <= 0;
        }
    }

    private static void Require(bool condition, string path, string message)
    {
        if (!condition)
        {
            throw new FilterException(path, message);
        }
    }

    private static int? Compare(JsonNode? field, JsonNode? value)
    {
        if (Values.TryNumber(field, out var a) && Values.TryNumber(value, out var b))
        {
            return a.CompareTo(b);
        }

        return Values.TryString(field, out var s) && Values.TryString(value, out var t) ? string.CompareOrdinal(s, t) : null;
    }

    private static bool Contains(JsonNode? field, JsonNode? value) => field switch
    {
        JsonArray items => items.Any(item => Values.AreEqual(item, value)),
        _ => Values.TryString(field, out var text) && Values.TryString(value, out var part) && text.Contains(part, StringComparison.Ordinal),
    };

    private static bool IsEmpty(JsonNode? field) => field switch
    {
        null => true,
        JsonArray array => array.Count == 0,
        JsonObject obj => obj.Count == 0,
        _ => Values.TryString(field, out var text) && text.Length == 0,
    };

    private static Regex BuildRegex(string pattern, string path)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout);
        }
        catch (ArgumentException ex)
        {
            throw new FilterException(path, $"Is not a valid regular expression: {ex.Message}");
        }
    }

    // A templated pattern is only known when the filter runs, so a bad one fails that evaluation.
    private static Regex RuntimeRegex(string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout);
        }
        catch (ArgumentException ex)
        {
            throw new ExpressionEvaluationException($"'{pattern}' is not a valid regular expression: {ex.Message}");
        }
    }

    private static bool IsMatch(Regex regex, string text)
    {
        try
        {
            return regex.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            throw new ExpressionEvaluationException($"The regular expression '{regex}' took longer than {RegexTimeout.TotalMilliseconds} ms.");
        }
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}

/// <summary>A filter that cannot be used: the path to the bad part and why.</summary>
public sealed class FilterException(string path, string problem) : Exception(path.Length == 0 ? problem : $"{path}: {problem}")
{
    public string Path { get; } = path;

    public string Problem { get; } = problem;
}
