using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cadre.Expressions;

/// <summary>What one evaluation carries: the values it reads, lambda parameters, and a work budget.</summary>
internal sealed class EvalState(ExpressionScope scope, int slots)
{
    public ExpressionScope Scope { get; } = scope;

    public JsonNode?[] Locals { get; } = slots == 0 ? [] : new JsonNode?[slots];

    private int _operations;

    /// <summary>Counts one unit of work; a budget keeps nested collection functions over big arrays from running away.</summary>
    public void Step()
    {
        if (++_operations > Scope.MaxOperations)
        {
            throw new ExpressionEvaluationException($"The expression needed more than {Scope.MaxOperations} steps; simplify it or work on less data.");
        }
    }
}

internal delegate JsonNode? Evaluator(EvalState state);

/// <summary>A parsed expression. <see cref="Compile"/> turns it into closures once, so evaluation walks no tree and allocates little.</summary>
internal abstract record ExprNode
{
    public abstract Evaluator Compile();
}

internal sealed record LiteralNode(JsonNode? Value) : ExprNode
{
    public override Evaluator Compile()
    {
        var value = Value;
        return _ => value;
    }
}

internal sealed record RootNode(string Name) : ExprNode
{
    public override Evaluator Compile()
    {
        var name = Name;
        return state => state.Scope.Root(name);
    }
}

internal sealed record LocalNode(int Slot, string Name) : ExprNode
{
    public override Evaluator Compile()
    {
        var slot = Slot;
        return state => state.Locals[slot];
    }
}

/// <summary><c>a.b</c>: a member of an object; <c>length</c> of an array or string; null on anything else (so missing data reads as null, not an error).</summary>
internal sealed record MemberNode(ExprNode Target, string Name) : ExprNode
{
    public override Evaluator Compile()
    {
        var target = Target.Compile();
        var name = Name;
        return state =>
        {
            state.Step();
            return Member(target(state), name);
        };
    }

    public static JsonNode? Member(JsonNode? value, string name) => value switch
    {
        JsonObject obj => obj.TryGetPropertyValue(name, out var member) ? member : null,
        JsonArray array when name == "length" => Values.Number(array.Count),
        JsonValue text when name == "length" && Values.TryString(text, out var s) => Values.Number(s.Length),
        _ => null,
    };
}

/// <summary><c>a[i]</c>: an array item (negative counts from the end) or an object member by name.</summary>
internal sealed record IndexNode(ExprNode Target, ExprNode Key, int Position) : ExprNode
{
    public override Evaluator Compile()
    {
        var target = Target.Compile();
        var key = Key.Compile();
        return state =>
        {
            state.Step();
            var value = target(state);
            var index = key(state);
            switch (value)
            {
                case JsonArray array when Values.TryNumber(index, out var n):
                    if (n != Math.Floor(n))
                    {
                        throw new ExpressionEvaluationException($"An array index must be a whole number, not {n}.");
                    }

                    var i = n < 0 ? array.Count + (long)n : (long)n;
                    return i >= 0 && i < array.Count ? array[(int)i] : null;
                case JsonObject when Values.TryString(index, out var name):
                    return MemberNode.Member(value, name);
                case null:
                    return null;
                default:
                    throw new ExpressionEvaluationException($"Cannot index {Values.TypeName(value)} with {Values.TypeName(index)}.");
            }
        };
    }
}

internal sealed record UnaryNode(string Operator, ExprNode Operand, int Position) : ExprNode
{
    public override Evaluator Compile()
    {
        var operand = Operand.Compile();
        if (Operator == "!")
        {
            return state => Values.Bool(!Values.IsTruthy(operand(state)));
        }

        return state =>
        {
            var value = operand(state);
            return Values.TryNumber(value, out var n) ? Values.Number(-n) : throw new ExpressionEvaluationException($"Cannot negate {Values.TypeName(value)}.");
        };
    }
}

internal sealed record BinaryNode(string Operator, ExprNode Left, ExprNode Right, int Position) : ExprNode
{
    public const int MaxTextLength = 1_000_000;

    public override Evaluator Compile()
    {
        var left = Left.Compile();
        var right = Right.Compile();
        return Operator switch
        {
            "&&" => state => Values.Bool(Values.IsTruthy(left(state)) && Values.IsTruthy(right(state))),
            "||" => state => Values.Bool(Values.IsTruthy(left(state)) || Values.IsTruthy(right(state))),
            "??" => state => left(state) ?? right(state),
            "==" => state => Values.Bool(Values.AreEqual(left(state), right(state))),
            "!=" => state => Values.Bool(!Values.AreEqual(left(state), right(state))),
            "+" => state => Add(left(state), right(state)),
            "<" or "<=" or ">" or ">=" => Comparison(Operator, left, right),
            _ => Arithmetic(Operator, left, right),
        };
    }

    private static JsonNode Add(JsonNode? a, JsonNode? b)
    {
        if (Values.TryNumber(a, out var x) && Values.TryNumber(b, out var y))
        {
            return Values.Number(x + y);
        }

        if (Values.Kind(a) == JsonValueKind.String || Values.Kind(b) == JsonValueKind.String)
        {
            var text = Values.ToText(a);
            var more = Values.ToText(b);
            return text.Length + more.Length > MaxTextLength
                ? throw new ExpressionEvaluationException($"A string may have at most {MaxTextLength} characters.")
                : JsonValue.Create(text + more);
        }

        if (a is JsonArray first && b is JsonArray second)
        {
            return new JsonArray([.. first.Select(Values.Detached), .. second.Select(Values.Detached)]);
        }

        throw new ExpressionEvaluationException($"Cannot add {Values.TypeName(a)} and {Values.TypeName(b)}.");
    }

    private static Evaluator Comparison(string op, Evaluator left, Evaluator right) => state =>
    {
        var a = left(state);
        var b = right(state);
        int order;
        if (Values.TryNumber(a, out var x) && Values.TryNumber(b, out var y))
        {
            order = x.CompareTo(y);
        }
        else if (Values.TryString(a, out var s) && Values.TryString(b, out var t))
        {
            order = string.CompareOrdinal(s, t);
        }
        else
        {
            throw new ExpressionEvaluationException($"Cannot compare {Values.TypeName(a)} with {Values.TypeName(b)} using '{op}'.");
        }

        return Values.Bool(op switch
        {
            "<" => order < 0,
            "<=" => order <= 0,
            ">" => order > 0,
            _ => order >= 0,
        });
    };

    private static Evaluator Arithmetic(string op, Evaluator left, Evaluator right) => state =>
    {
        var a = left(state);
        var b = right(state);
        if (!Values.TryNumber(a, out var x) || !Values.TryNumber(b, out var y))
        {
            throw new ExpressionEvaluationException($"'{op}' needs two numbers, not {Values.TypeName(a)} and {Values.TypeName(b)}.");
        }

        if (op is "/" or "%" && y == 0)
        {
            throw new ExpressionEvaluationException("Division by zero.");
        }

        return Values.Number(op switch
        {
            "-" => x - y,
            "*" => x * y,
            "/" => x / y,
            _ => x % y,
        });
    };
}

internal sealed record ConditionalNode(ExprNode Test, ExprNode Then, ExprNode Else) : ExprNode
{
    public override Evaluator Compile()
    {
        var test = Test.Compile();
        var then = Then.Compile();
        var otherwise = Else.Compile();
        return state => Values.IsTruthy(test(state)) ? then(state) : otherwise(state);
    }
}

internal sealed record ArrayNode(ExprNode[] Items) : ExprNode
{
    public override Evaluator Compile()
    {
        var items = Items.Select(i => i.Compile()).ToArray();
        return state =>
        {
            state.Step();
            var array = new JsonArray();
            foreach (var item in items)
            {
                array.Add(Values.Detached(item(state)));
            }

            return array;
        };
    }
}

internal sealed record ObjectNode((string Name, ExprNode Value)[] Members) : ExprNode
{
    public override Evaluator Compile()
    {
        var members = Members.Select(m => (m.Name, Value: m.Value.Compile())).ToArray();
        return state =>
        {
            state.Step();
            var obj = new JsonObject();
            foreach (var (name, value) in members)
            {
                obj[name] = Values.Detached(value(state));
            }

            return obj;
        };
    }
}

/// <summary><c>x => body</c>, only as the second argument of a collection function.</summary>
internal sealed record LambdaNode(int Slot, string Parameter, ExprNode Body) : ExprNode
{
    // A lambda is not a value: collection functions call CompileLambda.
    public override Evaluator Compile() => throw new InvalidOperationException("A lambda is compiled by the function that takes it.");

    public Func<EvalState, JsonNode?, JsonNode?> CompileLambda()
    {
        var slot = Slot;
        var body = Body.Compile();
        return (state, item) =>
        {
            state.Locals[slot] = item;
            return body(state);
        };
    }
}

internal sealed record CallNode(ExpressionFunction Function, ExprNode[] Arguments, int Position) : ExprNode
{
    public override Evaluator Compile() => Function.Compile(Arguments);
}

internal static class ExprText
{
    /// <summary>Expression source for a node: used by tests to check that printing and parsing agree.</summary>
    public static string Print(ExprNode node) => node switch
    {
        LiteralNode { Value: null } => "null",
        LiteralNode { Value: var v } when Values.Kind(v) == JsonValueKind.String => JsonSerializer.Serialize(((JsonValue)v!).GetValue<string>()),
        LiteralNode { Value: var v } => v!.ToJsonString(),
        RootNode r => r.Name,
        LocalNode l => l.Name,
        MemberNode m => $"{Print(m.Target)}.{m.Name}",
        IndexNode i => $"{Print(i.Target)}[{Print(i.Key)}]",
        UnaryNode u => $"{u.Operator}({Print(u.Operand)})",
        BinaryNode b => $"({Print(b.Left)} {b.Operator} {Print(b.Right)})",
        ConditionalNode c => $"({Print(c.Test)} ? {Print(c.Then)} : {Print(c.Else)})",
        ArrayNode a => $"[{string.Join(", ", a.Items.Select(Print))}]",
        ObjectNode o => $"{{{string.Join(", ", o.Members.Select(m => $"{JsonSerializer.Serialize(m.Name)}: {Print(m.Value)}"))}}}",
        LambdaNode l => $"{l.Parameter} => {Print(l.Body)}",
        CallNode c => $"{c.Function.Name}({string.Join(", ", c.Arguments.Select(Print))})",
        _ => throw new ArgumentOutOfRangeException(nameof(node)),
    };
}
