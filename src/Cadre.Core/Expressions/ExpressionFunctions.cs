using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cadre.Expressions;

/// <summary>One function of the library: its arity and how a call to it compiles.</summary>
internal sealed class ExpressionFunction(
    string name, int minArguments, int maxArguments, string signature, string description, Func<ExprNode[], Evaluator> compile, bool takesLambda = false)
{
    public string Name { get; } = name;

    public int MinArguments { get; } = minArguments;

    public int MaxArguments { get; } = maxArguments;

    /// <summary>For people: <c>replace(text, old, new)</c>.</summary>
    public string Signature { get; } = signature;

    public string Description { get; } = description;

    /// <summary>Whether the second argument may be a lambda (<c>x => x.id</c>) or a path string (<c>'id'</c>).</summary>
    public bool TakesLambda { get; } = takesLambda;

    public Evaluator Compile(ExprNode[] arguments) => compile(arguments);
}

/// <summary>
/// The fixed function library. Nothing here reaches outside the values given: no I/O, no
/// reflection, no loops beyond the arrays passed in; <c>now()</c> and <c>uuid()</c> come from the
/// scope, so a run's clock and IDs can be replayed.
/// </summary>
internal static class ExpressionFunctions
{
    public const int MaxCollectionResult = 100_000;

    public static IReadOnlyDictionary<string, ExpressionFunction> All { get; } = Build();

    private static Dictionary<string, ExpressionFunction> Build()
    {
        var functions = new List<ExpressionFunction>
        {
            // Text.
            Simple("lower", 1, 1, "lower(text)", "Lowercase (invariant).", a => JsonValue.Create(Text(a[0], "lower").ToLowerInvariant())),
            Simple("upper", 1, 1, "upper(text)", "Uppercase (invariant).", a => JsonValue.Create(Text(a[0], "upper").ToUpperInvariant())),
            Simple("trim", 1, 1, "trim(text)", "Without leading and trailing white space.", a => JsonValue.Create(Text(a[0], "trim").Trim())),
            Simple("contains", 2, 2, "contains(textOrArray, value)", "Whether the text contains the value, or the array has an item equal to it.", a => Values.Bool(a[0] switch
            {
                JsonArray array => array.Any(item => Values.AreEqual(item, a[1])),
                _ => Text(a[0], "contains").Contains(Text(a[1], "contains"), StringComparison.Ordinal),
            })),
            Simple("startsWith", 2, 2, "startsWith(text, prefix)", "Whether the text starts with the prefix.", a => Values.Bool(Text(a[0], "startsWith").StartsWith(Text(a[1], "startsWith"), StringComparison.Ordinal))),
            Simple("endsWith", 2, 2, "endsWith(text, suffix)", "Whether the text ends with the suffix.", a => Values.Bool(Text(a[0], "endsWith").EndsWith(Text(a[1], "endsWith"), StringComparison.Ordinal))),
            Simple("replace", 3, 3, "replace(text, old, new)", "Every occurrence of old replaced by new.", a => Replace(Text(a[0], "replace"), Text(a[1], "replace"), Text(a[2], "replace"))),
            Simple("split", 2, 2, "split(text, separator)", "The parts of the text between separators.", a => new JsonArray([.. Split(Text(a[0], "split"), Text(a[1], "split")).Select(p => (JsonNode)JsonValue.Create(p))])),
            Simple("join", 1, 2, "join(array, separator?)", "The items as text, joined (default separator: none).", a => Join(Array(a[0], "join"), a.Length > 1 ? Text(a[1], "join") : "")),
            Simple("length", 1, 1, "length(value)", "Characters of a text, items of an array, members of an object; 0 for null.", a => Values.Number(a[0] switch
            {
                null => 0,
                JsonArray array => array.Count,
                JsonObject obj => obj.Count,
                _ => Text(a[0], "length").Length,
            })),
            Simple("substring", 2, 3, "substring(text, start, length?)", "Part of a text (start counts from 0; past the end is cut short).", a => Substring(Text(a[0], "substring"), Whole(a[1], "substring"), a.Length > 2 ? Whole(a[2], "substring") : null)),
            Simple("toString", 1, 1, "toString(value)", "The value as text (objects and arrays as JSON).", a => JsonValue.Create(Values.ToText(a[0]))),

            // Numbers.
            Simple("toNumber", 1, 1, "toNumber(value)", "A number from a number or numeric text; null if it is not one.", a => ToNumber(a[0])),
            Simple("round", 1, 2, "round(number, digits?)", "Rounded half away from zero.", a => Values.Number(Math.Round(Number(a[0], "round"), a.Length > 1 ? Math.Clamp((int)Number(a[1], "round"), 0, 15) : 0, MidpointRounding.AwayFromZero))),
            Simple("floor", 1, 1, "floor(number)", "Rounded down.", a => Values.Number(Math.Floor(Number(a[0], "floor")))),
            Simple("ceil", 1, 1, "ceil(number)", "Rounded up.", a => Values.Number(Math.Ceiling(Number(a[0], "ceil")))),
            Simple("abs", 1, 1, "abs(number)", "Without its sign.", a => Values.Number(Math.Abs(Number(a[0], "abs")))),
            Simple("min", 1, 16, "min(array) or min(a, b, …)", "The smallest number; null for none.", a => Extreme(a, "min", Math.Min)),
            Simple("max", 1, 16, "max(array) or max(a, b, …)", "The largest number; null for none.", a => Extreme(a, "max", Math.Max)),
            Simple("sum", 1, 1, "sum(array)", "The total of an array of numbers.", a => Values.Number(Array(a[0], "sum").Sum(item => Number(item, "sum")))),

            // Collections.
            Collection("map", 2, "map(array, item => value or 'path')", "Each item turned into a value.", Map),
            Collection("filter", 2, "filter(array, item => test or 'path')", "The items for which the test holds.", Filter),
            Collection("first", 1, "first(array, item => test?)", "The first item (that passes the test); null for none.", First),
            Simple("last", 1, 1, "last(array)", "The last item; null for none.", a => Array(a[0], "last") is { Count: > 0 } array ? array[^1] : null),
            Collection("count", 1, "count(array, item => test?)", "How many items (pass the test).", Count),
            Simple("keys", 1, 1, "keys(object)", "The member names.", a => new JsonArray([.. Object(a[0], "keys").Select(m => (JsonNode)JsonValue.Create(m.Key))])),
            Simple("values", 1, 1, "values(object)", "The member values.", a => new JsonArray([.. Object(a[0], "values").Select(m => Values.Detached(m.Value))])),

            // JSON.
            Simple("parse", 1, 1, "parse(text)", "The JSON value the text holds.", a => Parse(Text(a[0], "parse"))),
            Simple("stringify", 1, 1, "stringify(value)", "The value as compact JSON text.", a => JsonValue.Create(a[0]?.ToJsonString() ?? "null")),
            Simple("typeOf", 1, 1, "typeOf(value)", "null, boolean, number, string, array or object.", a => JsonValue.Create(Values.TypeName(a[0]))),

            // Time: ISO-8601 text in UTC.
            Scoped("now", 0, 0, "now()", "The run's current time, as ISO-8601 UTC text.", (s, _) => Date(s.Scope.Now)),
            Simple("formatDate", 2, 2, "formatDate(date, format)", "A date as text with a .NET format such as 'yyyy-MM-dd HH:mm' (invariant culture, UTC).", a => JsonValue.Create(ToDate(a[0], "formatDate").UtcDateTime.ToString(Text(a[1], "formatDate"), CultureInfo.InvariantCulture))),
            Simple("dateAdd", 3, 3, "dateAdd(date, amount, unit)", "A date moved by an amount of milliseconds, seconds, minutes, hours, days, weeks, months or years.", a => Date(DateAdd(ToDate(a[0], "dateAdd"), Number(a[1], "dateAdd"), Text(a[2], "dateAdd")))),
            Simple("dateDiff", 3, 3, "dateDiff(from, to, unit)", "to minus from in milliseconds, seconds, minutes, hours, days or weeks (with fractions).", a => Values.Number(DateDiff(ToDate(a[0], "dateDiff"), ToDate(a[1], "dateDiff"), Text(a[2], "dateDiff")))),
            Scoped("uuid", 0, 0, "uuid()", "A new unique ID (time-ordered UUIDv7 text).", (s, _) => JsonValue.Create(s.Scope.NewId())),
        };
        return functions.ToDictionary(f => f.Name, StringComparer.Ordinal);
    }

    private static ExpressionFunction Simple(string name, int min, int max, string signature, string description, Func<JsonNode?[], JsonNode?> body) =>
        Scoped(name, min, max, signature, description, (_, arguments) => body(arguments));

    private static ExpressionFunction Scoped(string name, int min, int max, string signature, string description, Func<EvalState, JsonNode?[], JsonNode?> body) =>
        new(name, min, max, signature, description, arguments =>
        {
            var compiled = arguments.Select(a => a.Compile()).ToArray();
            return state =>
            {
                state.Step();
                var values = new JsonNode?[compiled.Length];
                for (var i = 0; i < compiled.Length; i++)
                {
                    values[i] = compiled[i](state);
                }

                return body(state, values);
            };
        });

    /// <summary>A function over an array and, optionally, a lambda or a path string applied to each item.</summary>
    private static ExpressionFunction Collection(
        string name, int min, string signature, string description, Func<EvalState, JsonArray, Func<EvalState, JsonNode?, JsonNode?>?, JsonNode?> body) =>
        new(name, min, 2, signature, description, arguments =>
        {
            var source = arguments[0].Compile();
            Func<EvalState, JsonNode?, JsonNode?>? each = arguments.Length < 2 ? null : arguments[1] switch
            {
                LambdaNode lambda => lambda.CompileLambda(),
                LiteralNode literal when Values.TryString(literal.Value, out var path) => PathOf(path),
                var other => Dynamic(other.Compile()),
            };
            return state =>
            {
                state.Step();
                return body(state, Array(source(state), name), each);
            };
        }, takesLambda: true);

    private static Func<EvalState, JsonNode?, JsonNode?> PathOf(string path)
    {
        var segments = path.Split('.');
        return (_, item) => segments.Aggregate(item, MemberNode.Member);
    }

    // A second argument that is neither a lambda nor a literal path: its value must be a path string.
    private static Func<EvalState, JsonNode?, JsonNode?> Dynamic(Evaluator argument) => (state, item) =>
        Values.TryString(argument(state), out var path)
            ? path.Split('.').Aggregate(item, MemberNode.Member)
            : throw new ExpressionEvaluationException("The second argument must be a lambda (item => …) or a path such as 'id'.");

    private static JsonArray Map(EvalState state, JsonArray array, Func<EvalState, JsonNode?, JsonNode?>? each)
    {
        var result = new JsonArray();
        foreach (var item in array)
        {
            state.Step();
            result.Add(Values.Detached(each!(state, item)));
        }

        return result;
    }

    private static JsonArray Filter(EvalState state, JsonArray array, Func<EvalState, JsonNode?, JsonNode?>? each)
    {
        var result = new JsonArray();
        foreach (var item in array)
        {
            state.Step();
            if (Values.IsTruthy(each!(state, item)))
            {
                result.Add(Values.Detached(item));
            }
        }

        return result;
    }

    private static JsonNode? First(EvalState state, JsonArray array, Func<EvalState, JsonNode?, JsonNode?>? each)
    {
        foreach (var item in array)
        {
            state.Step();
            if (each is null || Values.IsTruthy(each(state, item)))
            {
                return item;
            }
        }

        return null;
    }

    private static JsonValue Count(EvalState state, JsonArray array, Func<EvalState, JsonNode?, JsonNode?>? each)
    {
        if (each is null)
        {
            return Values.Number(array.Count);
        }

        var count = 0;
        foreach (var item in array)
        {
            state.Step();
            if (Values.IsTruthy(each(state, item)))
            {
                count++;
            }
        }

        return Values.Number(count);
    }

    private static string Text(JsonNode? value, string function) =>
        Values.TryString(value, out var text) ? text : throw new ExpressionEvaluationException($"{function}() needs text, not {Values.TypeName(value)}.");

    private static double Number(JsonNode? value, string function) =>
        Values.TryNumber(value, out var number) ? number : throw new ExpressionEvaluationException($"{function}() needs a number, not {Values.TypeName(value)}.");

    private static int Whole(JsonNode? value, string function)
    {
        var number = Number(value, function);
        return number == Math.Floor(number) && number is >= int.MinValue and <= int.MaxValue
            ? (int)number
            : throw new ExpressionEvaluationException($"{function}() needs a whole number, not {number}.");
    }

    private static JsonArray Array(JsonNode? value, string function) =>
        value as JsonArray ?? throw new ExpressionEvaluationException($"{function}() needs an array, not {Values.TypeName(value)}.");

    private static JsonObject Object(JsonNode? value, string function) =>
        value as JsonObject ?? throw new ExpressionEvaluationException($"{function}() needs an object, not {Values.TypeName(value)}.");

    private static JsonValue Replace(string text, string old, string replacement)
    {
        if (old.Length == 0)
        {
            throw new ExpressionEvaluationException("replace() needs a non-empty text to replace.");
        }

        // Bound the result before building it: n occurrences grow the text by n × (new − old).
        var occurrences = (text.Length - text.Replace(old, "", StringComparison.Ordinal).Length) / old.Length;
        if (text.Length + ((long)occurrences * (replacement.Length - old.Length)) > BinaryNode.MaxTextLength)
        {
            throw new ExpressionEvaluationException($"A string may have at most {BinaryNode.MaxTextLength} characters.");
        }

        return JsonValue.Create(text.Replace(old, replacement, StringComparison.Ordinal));
    }

    private static string[] Split(string text, string separator)
    {
        var parts = separator.Length == 0 ? text.Select(c => c.ToString()).ToArray() : text.Split(separator);
        return parts.Length > MaxCollectionResult
            ? throw new ExpressionEvaluationException($"An array may have at most {MaxCollectionResult} items.")
            : parts;
    }

    private static JsonValue Join(JsonArray array, string separator)
    {
        var text = string.Join(separator, array.Select(Values.ToText));
        return text.Length > BinaryNode.MaxTextLength
            ? throw new ExpressionEvaluationException($"A string may have at most {BinaryNode.MaxTextLength} characters.")
            : JsonValue.Create(text);
    }

    private static JsonValue Substring(string text, int start, int? length)
    {
        if (start < 0 || length < 0)
        {
            throw new ExpressionEvaluationException("substring() needs a start and length of 0 or more.");
        }

        var from = Math.Min(start, text.Length);
        var count = Math.Min(length ?? int.MaxValue, text.Length - from);
        return JsonValue.Create(text.Substring(from, count));
    }

    private static JsonValue? ToNumber(JsonNode? value)
    {
        if (Values.TryNumber(value, out var number))
        {
            return Values.Number(number);
        }

        return Values.TryString(value, out var text) && double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed)
            ? Values.Number(parsed)
            : null;
    }

    private static JsonValue? Extreme(JsonNode?[] arguments, string function, Func<double, double, double> pick)
    {
        IEnumerable<JsonNode?> items = arguments is [JsonArray array] ? array : arguments;
        double? best = null;
        foreach (var item in items)
        {
            var number = Number(item, function);
            best = best is { } current ? pick(current, number) : number;
        }

        return best is { } found ? Values.Number(found) : null;
    }

    private static JsonNode? Parse(string text)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 64, AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            throw new ExpressionEvaluationException($"parse() was given text that is not JSON: {ex.Message.Split(" Path:")[0]}");
        }
    }

    private static JsonValue Date(DateTimeOffset value) =>
        JsonValue.Create(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));

    private static DateTimeOffset ToDate(JsonNode? value, string function) =>
        Values.TryString(value, out var text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date)
            ? date
            : throw new ExpressionEvaluationException($"{function}() needs a date as ISO-8601 text, not {(value is null ? "null" : value.ToJsonString())}.");

    private static DateTimeOffset DateAdd(DateTimeOffset date, double amount, string unit)
    {
        try
        {
            return unit switch
            {
                "milliseconds" => date.AddMilliseconds(amount),
                "seconds" => date.AddSeconds(amount),
                "minutes" => date.AddMinutes(amount),
                "hours" => date.AddHours(amount),
                "days" => date.AddDays(amount),
                "weeks" => date.AddDays(amount * 7),
                "months" => date.AddMonths(checked((int)amount)),
                "years" => date.AddYears(checked((int)amount)),
                _ => throw new ExpressionEvaluationException($"dateAdd() does not know the unit '{unit}'; use milliseconds, seconds, minutes, hours, days, weeks, months or years."),
            };
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or OverflowException)
        {
            throw new ExpressionEvaluationException("dateAdd() moved the date outside the years 1 to 9999.");
        }
    }

    private static double DateDiff(DateTimeOffset from, DateTimeOffset to, string unit)
    {
        var span = to - from;
        return unit switch
        {
            "milliseconds" => span.TotalMilliseconds,
            "seconds" => span.TotalSeconds,
            "minutes" => span.TotalMinutes,
            "hours" => span.TotalHours,
            "days" => span.TotalDays,
            "weeks" => span.TotalDays / 7,
            _ => throw new ExpressionEvaluationException($"dateDiff() does not know the unit '{unit}'; use milliseconds, seconds, minutes, hours, days or weeks."),
        };
    }
}
