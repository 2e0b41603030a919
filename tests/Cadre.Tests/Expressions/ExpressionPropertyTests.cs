using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using Cadre.Expressions;
using CsCheck;

namespace Cadre.Tests.Expressions;

/// <summary>Properties checked over generated expressions and inputs (CsCheck shrinks a failure to a small example).</summary>
public sealed class ExpressionPropertyTests
{
    /// <summary>
    /// A model of integer arithmetic: evaluated exactly in C# (BigInteger, so a deep product does not
    /// wrap round as a long would), printed with only the parentheses precedence needs.
    /// </summary>
    private abstract record Tree
    {
        public abstract BigInteger Value { get; }

        /// <summary>The largest magnitude anywhere in the evaluation, intermediate results included.</summary>
        public BigInteger Largest => this is Operation o ? BigInteger.Max(BigInteger.Abs(Value), BigInteger.Max(o.Left.Largest, o.Right.Largest)) : BigInteger.Abs(Value);

        public abstract int Precedence { get; }

        public abstract string Print();
    }

    private sealed record Leaf(long Number) : Tree
    {
        public override BigInteger Value => Number;

        public override int Precedence => 10;

        public override string Print() => Number < 0 ? $"({Number.ToString(CultureInfo.InvariantCulture)})" : Number.ToString(CultureInfo.InvariantCulture);
    }

    private sealed record Operation(char Operator, Tree Left, Tree Right) : Tree
    {
        public override BigInteger Value => Operator switch
        {
            '+' => Left.Value + Right.Value,
            '-' => Left.Value - Right.Value,
            _ => Left.Value * Right.Value,
        };

        public override int Precedence => Operator == '*' ? 8 : 7;

        // Left-associative: the left side needs parentheses only when looser, the right side also when equal.
        public override string Print() =>
            $"{Wrap(Left, Left.Precedence < Precedence)} {Operator} {Wrap(Right, Right.Precedence <= Precedence)}";

        private static string Wrap(Tree tree, bool parenthesise) => parenthesise ? $"({tree.Print()})" : tree.Print();
    }

    private static readonly Gen<Tree> Trees = Gen.Recursive<Tree>((depth, tree) => depth >= 5
        ? Gen.Long[-50, 50].Select(n => (Tree)new Leaf(n))
        : Gen.Frequency(
            (2, Gen.Long[-50, 50].Select(n => (Tree)new Leaf(n))),
            (3, Gen.Select(Gen.OneOf('+', '-', '*'), tree, tree, (op, left, right) => (Tree)new Operation(op, left, right)))));

    private static readonly ExpressionScope Empty = new(new Dictionary<string, JsonNode?>(), DateTimeOffset.UnixEpoch);

    [Fact]
    public void Arithmetic_AgreesWithAModelOfPrecedenceAndAssociativity() =>
        Trees.Sample(tree =>
        {
            var value = Expression.Parse(tree.Print()).Evaluate(Empty);
            // Past 2⁵³, anywhere along the way, a JSON number (a double) no longer holds every integer: precedence is checked here, not precision.
            return tree.Largest > MaxExactInteger || (Values.TryNumber(value, out var number) && (BigInteger)number == tree.Value);
        }, iter: 3000);

    private static readonly BigInteger MaxExactInteger = BigInteger.Pow(2, 53);

    [Fact]
    public void Printing_AParsedExpression_ParsesBackToTheSameExpression() =>
        Trees.Sample(tree =>
        {
            var printed = ExprText.Print(Expression.Parse(tree.Print()).Root);
            return ExprText.Print(Expression.Parse(printed).Root) == printed
                && Values.AreEqual(Expression.Parse(printed).Evaluate(Empty), Expression.Parse(tree.Print()).Evaluate(Empty));
        }, iter: 2000);

    [Fact]
    public void AnyText_EitherParsesOrIsASyntaxError_AndEvaluationFailsOnlyAsAnEvaluationError()
    {
        var scope = ExpressionTests.Scope();
        var alphabet = Gen.Char["abcxyz019 .,:?!=<>&|+-*/%()[]{}'\"\\_$"];
        var words = Gen.OneOf("context", "steps", "body", "map", "filter", "lower", "x", "=>", "null", "true", "1.5e3", "'s'", "{{", "}}");
        var sources = Gen.OneOf(
            Gen.String[alphabet, 0, 40],
            words.Array[1, 12].Select(parts => string.Join(" ", parts)));

        sources.Sample(source =>
        {
            Expression expression;
            try
            {
                expression = Expression.Parse(source);
            }
            catch (ExpressionSyntaxException ex)
            {
                return ex.Position >= 0 && ex.Position <= source.Length;
            }

            try
            {
                expression.Evaluate(scope);
            }
            catch (ExpressionEvaluationException)
            {
            }

            return true;
        }, iter: 20_000);
    }

    [Fact]
    public void Stringify_ThenParse_GivesBackTheValue()
    {
        var leaf = Gen.OneOf(
            Gen.Int[-1000, 1000].Select(i => (JsonNode?)JsonValue.Create(i)),
            Gen.String.Select(s => (JsonNode?)JsonValue.Create(s)),
            Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b)),
            Gen.Const((JsonNode?)null));
        var json = Gen.Recursive<JsonNode?>((depth, node) => depth >= 3
            ? leaf
            : Gen.Frequency(
                (3, leaf),
                (1, node.List[0, 4].Select(items => (JsonNode?)new JsonArray([.. items.Select(i => i?.DeepClone())]))),
                (1, node.List[0, 4].Select(items => (JsonNode?)new JsonObject(items.Select((v, i) => KeyValuePair.Create($"k{i}", v?.DeepClone())))))));

        json.Sample(value =>
        {
            var scope = new ExpressionScope(new Dictionary<string, JsonNode?> { ["context"] = value }, DateTimeOffset.UnixEpoch);
            return Values.AreEqual(Expression.Parse("parse(stringify(context))").Evaluate(scope), value)
                && Values.IsTruthy(Expression.Parse("parse(stringify(context)) == context").Evaluate(scope));
        }, iter: 2000);
    }

    [Fact]
    public void ALonePlaceholder_KeepsTheJsonTypeOfItsExpression() =>
        Gen.OneOf("context.body.counter", "context.body.ok", "context.body.tags", "context.body.none", "context.event", "'text'", "1.25", "[1, 'a']")
            .Sample(source =>
            {
                var direct = Expression.Parse(source).Evaluate(ExpressionTests.Scope());
                var templated = Template.Parse("{{ " + source + " }}").Render(ExpressionTests.Scope());
                return Values.TypeName(direct) == Values.TypeName(templated) && Values.AreEqual(direct, templated);
            });
}
