using System.Text.Json.Nodes;

namespace Cadre.Expressions;

/// <summary>Limits and names for parsing.</summary>
public sealed record ExpressionOptions
{
    public static ExpressionOptions Default { get; } = new();

    /// <summary>The names an expression may start a path with (<c>context</c>, <c>steps</c>, …); null allows any.</summary>
    public IReadOnlySet<string>? Roots { get; init; }

    /// <summary>Longest expression source, in characters.</summary>
    public int MaxLength { get; init; } = 4096;

    /// <summary>Longest string literal, in characters.</summary>
    public int MaxStringLiteralLength { get; init; } = 2048;
}

/// <summary>What an evaluation reads: the roots' values, the clock and an ID source (both replayable).</summary>
public sealed class ExpressionScope
{
    private readonly IReadOnlyDictionary<string, JsonNode?> _roots;

    public ExpressionScope(IReadOnlyDictionary<string, JsonNode?> roots, DateTimeOffset now, Func<string>? newId = null)
    {
        ArgumentNullException.ThrowIfNull(roots);
        _roots = roots;
        Now = now;
        NewId = newId ?? (() => Guid.CreateVersion7(now).ToString());
    }

    /// <summary>What <c>now()</c> answers: the run's clock, not the machine's, so a replay sees the same time.</summary>
    public DateTimeOffset Now { get; }

    /// <summary>What <c>uuid()</c> answers.</summary>
    public Func<string> NewId { get; }

    /// <summary>Most units of work one evaluation may do (path steps, items visited by collection functions, calls).</summary>
    public int MaxOperations { get; init; } = 1_000_000;

    internal JsonNode? Root(string name) => _roots.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// Cadre's expression language, the inside of <c>{{ … }}</c>: paths (<c>steps.fetch.output.items[0].id</c>),
/// literals, arithmetic, comparison, boolean logic, <c>??</c>, the ternary, and a fixed function library.
/// No library that restores here does this safely (Jint and the common evaluators are missing; Roslyn
/// scripting is no sandbox), so it is a small hand-written parser and a compiler to closures: parsed
/// once, evaluated in well under a microsecond for a path and an operator.
/// </summary>
public sealed class Expression
{
    private readonly Evaluator _evaluate;
    private readonly int _slots;

    private Expression(string source, ExprNode root, IReadOnlySet<string> roots, int slots)
    {
        Source = source;
        Root = root;
        Roots = roots;
        _slots = slots;
        _evaluate = root.Compile();
    }

    public string Source { get; }

    /// <summary>The root names the expression reads (<c>context</c>, <c>steps</c>, …).</summary>
    public IReadOnlySet<string> Roots { get; }

    internal ExprNode Root { get; }

    /// <summary>Parses and compiles; throws <see cref="ExpressionSyntaxException"/> with the position of the first problem.</summary>
    public static Expression Parse(string source, ExpressionOptions? options = null) => Parse(source, 0, options ?? ExpressionOptions.Default);

    internal static Expression Parse(string source, int offset, ExpressionOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        var (root, roots, slots) = ExpressionParser.Parse(source, offset, options);
        return new Expression(source, root, roots, slots);
    }

    /// <summary>
    /// The value, as JSON. It may be a node of the scope's own values: use <see cref="Values.Detached"/>
    /// semantics (clone when it has a parent) before putting it into another tree; <see cref="Template"/> does.
    /// Throws <see cref="ExpressionEvaluationException"/> when the values do not fit the expression.
    /// </summary>
    public JsonNode? Evaluate(ExpressionScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return _evaluate(new EvalState(scope, _slots));
    }

    public override string ToString() => Source;

    /// <summary>The names read as the first member of <paramref name="root"/>: <c>a</c> and <c>b</c> for <c>steps.a.output + steps['b'].x</c>.</summary>
    public IEnumerable<string> MembersOf(string root) => Members(Root, root).Distinct(StringComparer.Ordinal);

    /// <summary>
    /// Whether <paramref name="root"/> is read other than member by fixed name: whole
    /// (<c>stringify(secrets)</c>) or by a computed key (<c>secrets[context.body.name]</c>).
    /// </summary>
    public bool ReadsUnnamedMembersOf(string root) => ReadsUnnamed(Root, root);

    private static bool ReadsUnnamed(ExprNode node, string root) => node switch
    {
        MemberNode { Target: RootNode r } when r.Name == root => false,
        IndexNode { Target: RootNode r, Key: LiteralNode { Value: var key } } when r.Name == root && Values.TryString(key, out _) => false,
        RootNode r when r.Name == root => true,
        _ => Children(node).Any(child => ReadsUnnamed(child, root)),
    };

    private static IEnumerable<string> Members(ExprNode node, string root)
    {
        switch (node)
        {
            case MemberNode { Target: RootNode r } m when r.Name == root:
                yield return m.Name;
                break;
            case IndexNode { Target: RootNode r, Key: LiteralNode { Value: var key } } when r.Name == root && Values.TryString(key, out var name):
                yield return name;
                break;
        }

        foreach (var child in Children(node))
        {
            foreach (var name in Members(child, root))
            {
                yield return name;
            }
        }
    }

    private static IEnumerable<ExprNode> Children(ExprNode node) => node switch
    {
        MemberNode m => [m.Target],
        IndexNode i => [i.Target, i.Key],
        UnaryNode u => [u.Operand],
        BinaryNode b => [b.Left, b.Right],
        ConditionalNode c => [c.Test, c.Then, c.Else],
        ArrayNode a => a.Items,
        ObjectNode o => o.Members.Select(m => m.Value),
        LambdaNode l => [l.Body],
        CallNode c => c.Arguments,
        _ => [],
    };

    /// <summary>The functions an expression may call, for documentation and the API's listing.</summary>
    public static IReadOnlyList<(string Name, string Signature, string Description)> Functions { get; } =
        [.. ExpressionFunctions.All.Values.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => (f.Name, f.Signature, f.Description))];
}
