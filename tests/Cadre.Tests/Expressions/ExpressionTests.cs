using System.Text.Json.Nodes;
using Cadre.Expressions;

namespace Cadre.Tests.Expressions;

public sealed class ExpressionTests
{
    private static readonly DateTimeOffset Clock = new(2026, 3, 14, 15, 9, 26, TimeSpan.Zero);

    internal static ExpressionScope Scope(string? context = null, string? steps = null) => new(
        new Dictionary<string, JsonNode?>
        {
            ["context"] = JsonNode.Parse(context ?? """
                {"body": {"counter": 40, "name": "  Ada Lovelace ", "tags": ["a", "b", "c"], "ok": true, "none": null, "price": 12.5,
                          "items": [{"id": 1, "qty": 2, "sku": "x-1"}, {"id": 2, "qty": 0, "sku": "y-2"}, {"id": 3, "qty": 5, "sku": "x-3"}]},
                 "event": {"payload": {"priority": "high", "at": "2026-03-01T10:00:00Z"}}}
                """),
            ["steps"] = JsonNode.Parse(steps ?? """{"fetch": {"output": {"items": [{"id": "i-1"}, {"id": "i-2"}], "status": 200}}, "a": {"output": {"counter": 41}}}"""),
        },
        Clock,
        () => "00000000-0000-7000-8000-000000000001");

    internal static string Eval(string source, ExpressionScope? scope = null) =>
        Expression.Parse(source).Evaluate(scope ?? Scope())?.ToJsonString() ?? "null";

    [Theory]
    [InlineData("1 + 2 * 3", "7")]
    [InlineData("(1 + 2) * 3", "9")]
    [InlineData("10 - 4 - 3", "3")]
    [InlineData("2 * 3 % 4", "2")]
    [InlineData("7 / 2", "3.5")]
    [InlineData("-2 * -3", "6")]
    [InlineData("- context.body.counter", "-40")]
    [InlineData("1 < 2 == true", "true")]
    [InlineData("1 + 2 < 4 && 5 > 6 || true", "true")]
    [InlineData("true || false && false", "true")]
    [InlineData("!true == false", "true")]
    [InlineData("null ?? 1 + 1", "2")]
    [InlineData("false ? 1 : true ? 2 : 3", "2")]
    [InlineData("true ? 1 : 2 + 10", "1")]
    [InlineData("context.body.none ?? context.body.missing ?? 'd'", "\"d\"")]
    [InlineData("1e3 + 0.5", "1000.5")]
    public void Operators_FollowPrecedenceAndAssociativity(string source, string expected) => Eval(source).ShouldBe(expected);

    [Theory]
    [InlineData("steps.a.output.counter + 1", "42")]
    [InlineData("context.body.tags[0]", "\"a\"")]
    [InlineData("context.body.tags[-1]", "\"c\"")]
    [InlineData("context.body.tags[10]", "null")]
    [InlineData("context.body['name']", "\"  Ada Lovelace \"")]
    [InlineData("steps.fetch.output.items[1].id", "\"i-2\"")]
    [InlineData("context.body.tags.length", "3")]
    [InlineData("context.body.name.length", "15")]
    [InlineData("context.missing.deeper.still", "null")]
    [InlineData("nothing.at.all", "null")]
    [InlineData("context.body.none.x", "null")]
    [InlineData("context.event.payload", "{\"priority\":\"high\",\"at\":\"2026-03-01T10:00:00Z\"}")]
    public void Paths_ReadValues_AndMissingDataIsNull(string source, string expected) => Eval(source).ShouldBe(expected);

    [Theory]
    [InlineData("'a' + 1", "\"a1\"")]
    [InlineData("'n: ' + null", "\"n: \"")]
    [InlineData("'x' + context.body.tags", "\"x[\\u0022a\\u0022,\\u0022b\\u0022,\\u0022c\\u0022]\"")]
    [InlineData("[1] + [2, 3]", "[1,2,3]")]
    [InlineData("1 == 1.0", "true")]
    [InlineData("'1' == 1", "false")]
    [InlineData("null == null", "true")]
    [InlineData("[1, {\"a\": 2}] == [1, {\"a\": 2}]", "true")]
    [InlineData("{a: 1, b: 2} == {b: 2, a: 1}", "true")]
    [InlineData("'abc' < 'abd'", "true")]
    [InlineData("!0", "true")]
    [InlineData("!''", "true")]
    [InlineData("![]", "false")]
    [InlineData("context.body.ok && 'yes'", "true")]
    [InlineData("{total: context.body.counter * 2, list: [1, 'two', null]}", "{\"total\":80,\"list\":[1,\"two\",null]}")]
    public void Values_CombineByTheirTypes(string source, string expected) => Eval(source).ShouldBe(expected);

    [Theory]
    [InlineData("lower('ÀBC')", "\"\\u00E0bc\"")]
    [InlineData("upper('abc')", "\"ABC\"")]
    [InlineData("trim(context.body.name)", "\"Ada Lovelace\"")]
    [InlineData("contains('hello', 'ell')", "true")]
    [InlineData("contains(context.body.tags, 'b')", "true")]
    [InlineData("contains(context.body.tags, 'z')", "false")]
    [InlineData("startsWith('hello', 'he')", "true")]
    [InlineData("endsWith('hello', 'lo')", "true")]
    [InlineData("replace('a-b-c', '-', '+')", "\"a\\u002Bb\\u002Bc\"")]
    [InlineData("split('a,b,,c', ',')", "[\"a\",\"b\",\"\",\"c\"]")]
    [InlineData("join(context.body.tags, '|')", "\"a|b|c\"")]
    [InlineData("join([1, null, true])", "\"1true\"")]
    [InlineData("length('abc')", "3")]
    [InlineData("length(context.body.items)", "3")]
    [InlineData("length({a: 1})", "1")]
    [InlineData("length(null)", "0")]
    [InlineData("substring('abcdef', 2, 3)", "\"cde\"")]
    [InlineData("substring('abc', 1)", "\"bc\"")]
    [InlineData("substring('abc', 10)", "\"\"")]
    [InlineData("toString(12.5)", "\"12.5\"")]
    [InlineData("toString({a: 1})", "\"{\\u0022a\\u0022:1}\"")]
    [InlineData("toNumber(' 42 ')", "42")]
    [InlineData("toNumber('nope')", "null")]
    [InlineData("round(2.345, 2)", "2.35")]
    [InlineData("round(2.5)", "3")]
    [InlineData("floor(-1.5)", "-2")]
    [InlineData("ceil(1.1)", "2")]
    [InlineData("abs(-3)", "3")]
    [InlineData("min(3, 1, 2)", "1")]
    [InlineData("max([3, 9, 2])", "9")]
    [InlineData("min([])", "null")]
    [InlineData("sum(map(context.body.items, i => i.qty))", "7")]
    [InlineData("map(context.body.items, 'sku')", "[\"x-1\",\"y-2\",\"x-3\"]")]
    [InlineData("map(context.body.items, i => i.id * 10)", "[10,20,30]")]
    [InlineData("filter(context.body.items, i => i.qty > 0).length", "2")]
    [InlineData("map(filter(context.body.items, i => startsWith(i.sku, 'x')), 'id')", "[1,3]")]
    [InlineData("filter(context.body.items, 'qty')[1].id", "3")]
    [InlineData("first(context.body.items).id", "1")]
    [InlineData("first(context.body.items, i => i.qty == 0).sku", "\"y-2\"")]
    [InlineData("first([], i => true)", "null")]
    [InlineData("last(context.body.tags)", "\"c\"")]
    [InlineData("count(context.body.items)", "3")]
    [InlineData("count(context.body.items, i => i.qty > 1)", "2")]
    [InlineData("map([[1, 2], [3]], row => sum(map(row, x => x * context.body.counter)))", "[120,120]")]
    [InlineData("keys({b: 1, a: 2})", "[\"b\",\"a\"]")]
    [InlineData("values({b: 1, a: 2})", "[1,2]")]
    [InlineData("parse('{\"a\": [1, 2]}').a[1]", "2")]
    [InlineData("stringify({a: [1, 'x']})", "\"{\\u0022a\\u0022:[1,\\u0022x\\u0022]}\"")]
    [InlineData("typeOf(context.body.items)", "\"array\"")]
    [InlineData("typeOf(null)", "\"null\"")]
    [InlineData("now()", "\"2026-03-14T15:09:26.000Z\"")]
    [InlineData("formatDate(now(), 'yyyy-MM-dd')", "\"2026-03-14\"")]
    [InlineData("dateAdd(context.event.payload.at, 3, 'days')", "\"2026-03-04T10:00:00.000Z\"")]
    [InlineData("dateAdd('2026-01-31T00:00:00Z', 1, 'months')", "\"2026-02-28T00:00:00.000Z\"")]
    [InlineData("dateDiff(context.event.payload.at, now(), 'hours') > 24 * 13", "true")]
    [InlineData("dateDiff('2026-01-01T00:00:00Z', '2026-01-01T00:01:30Z', 'seconds')", "90")]
    [InlineData("uuid()", "\"00000000-0000-7000-8000-000000000001\"")]
    public void Functions_DoWhatTheirNamesSay(string source, string expected) => Eval(source).ShouldBe(expected);

    [Fact]
    public void Functions_AreAllListed_AndEachIsTestedAbove()
    {
        var tested = typeof(ExpressionTests).GetMethod(nameof(Functions_DoWhatTheirNamesSay))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()
            .Select(a => (string)a.GetData(null!).First()[0]).ToList();

        foreach (var (name, signature, description) in Expression.Functions)
        {
            tested.ShouldContain(source => source.Contains(name + "(", StringComparison.Ordinal), $"{name} has no test");
            signature.ShouldStartWith(name + "(");
            description.ShouldNotBeNullOrWhiteSpace();
        }
    }

    [Theory]
    [InlineData("1 +", "ended", 3)]
    [InlineData("(1 + 2", "Expected ')'", 6)]
    [InlineData("a..b", "name after '.'", 2)]
    [InlineData("1 # 2", "'#'", 2)]
    [InlineData("'open", "not closed", 0)]
    [InlineData("frobnicate(1)", "not a function", 0)]
    [InlineData("lower()", "takes 1 arguments, not 0", 0)]
    [InlineData("replace('a', 'b')", "takes 3 arguments", 0)]
    [InlineData("{a: 1, a: 2}", "twice", 7)]
    [InlineData("1 2", "Unexpected '2'", 2)]
    [InlineData("", "empty", 0)]
    [InlineData("'\\q'", "not an escape", 1)]
    [InlineData("x ? 1", "Expected ':'", 5)]
    public void Parse_Errors_SayWhatAndWhere(string source, string problem, int position)
    {
        var error = Should.Throw<ExpressionSyntaxException>(() => Expression.Parse(source));

        error.Problem.ShouldContain(problem);
        error.Position.ShouldBe(position);
    }

    [Fact]
    public void Parse_UnknownRoot_IsRefusedWhenRootsAreGiven()
    {
        var options = new ExpressionOptions { Roots = new HashSet<string> { "context", "steps" } };

        var error = Should.Throw<ExpressionSyntaxException>(() => Expression.Parse("context.a + secret.b", options));

        error.Position.ShouldBe(12);
        error.Problem.ShouldContain("context, steps");
        Expression.Parse("map(context.items, secret => secret.id)", options).Roots.ShouldBe(["context"]);
    }

    [Theory]
    [InlineData("1 / 0", "Division by zero")]
    [InlineData("5 % 0", "Division by zero")]
    [InlineData("'a' - 1", "needs two numbers")]
    [InlineData("1 < 'a'", "Cannot compare")]
    [InlineData("-'a'", "Cannot negate")]
    [InlineData("{} + 1", "Cannot add")]
    [InlineData("lower(5)", "lower() needs text, not number")]
    [InlineData("sum([1, 'x'])", "needs a number")]
    [InlineData("map(5, x => x)", "needs an array")]
    [InlineData("context.body.tags[1.5]", "whole number")]
    [InlineData("context.body.tags['x']", "Cannot index")]
    [InlineData("parse('{')", "not JSON")]
    [InlineData("dateAdd('yesterday', 1, 'days')", "ISO-8601")]
    [InlineData("dateAdd(now(), 1, 'fortnights')", "unit")]
    [InlineData("1e308 * 10", "finite")]
    [InlineData("replace('a', '', 'b')", "non-empty")]
    public void Evaluate_Errors_SayWhatWentWrong(string source, string message) =>
        Should.Throw<ExpressionEvaluationException>(() => Eval(source)).Message.ShouldContain(message);

    [Fact]
    public void Evaluate_DoesNotChangeTheValuesItReads()
    {
        var context = JsonNode.Parse("""{"list": [1, 2], "obj": {"k": "v"}}""");
        var local = new ExpressionScope(new Dictionary<string, JsonNode?> { ["context"] = context }, Clock);

        Expression.Parse("[context.list, context.obj, filter(context.list, x => x > 1), context.list + [3]]").Evaluate(local);

        context!.ToJsonString().ShouldBe("""{"list":[1,2],"obj":{"k":"v"}}""");
    }

    [Fact]
    public void HostileInput_IsRefused()
    {
        Should.Throw<ExpressionSyntaxException>(() => Expression.Parse(new string('(', 10_000) + "1" + new string(')', 10_000))).Problem.ShouldContain("characters");
        Should.Throw<ExpressionSyntaxException>(() => Expression.Parse(new string('(', 100) + "1" + new string(')', 100))).Problem.ShouldContain("nested");
        Should.Throw<ExpressionSyntaxException>(() => Expression.Parse(string.Concat(Enumerable.Repeat("-", 200)) + "1")).Problem.ShouldContain("nested");
        Should.Throw<ExpressionSyntaxException>(() => Expression.Parse(string.Join(" ? ", Enumerable.Repeat("1", 100)))).Problem.ShouldContain("nested");
        Should.Throw<ExpressionSyntaxException>(() => Expression.Parse("'" + new string('x', 3000) + "'")).Problem.ShouldContain("string literal");
        Should.Throw<ExpressionSyntaxException>(() => Expression.Parse(new string('9', 400))).Problem.ShouldContain("characters");
        Should.Throw<ExpressionSyntaxException>(() => Expression.Parse("1" + new string('0', 60) + "e300")).Problem.ShouldContain("number");

        var big = new JsonArray([.. Enumerable.Range(0, 2000).Select(i => (JsonNode)JsonValue.Create(i))]);
        var scope = new ExpressionScope(new Dictionary<string, JsonNode?> { ["context"] = big }, Clock);
        Should.Throw<ExpressionEvaluationException>(() => Expression.Parse("count(context, a => count(context, b => count(context, c => true)) > 0)").Evaluate(scope))
            .Message.ShouldContain("steps");
        var text = new ExpressionScope(new Dictionary<string, JsonNode?> { ["context"] = JsonValue.Create(new string('x', 400_000)) }, Clock);
        Should.Throw<ExpressionEvaluationException>(() => Expression.Parse("context + context + context").Evaluate(text)).Message.ShouldContain("characters");
        Should.Throw<ExpressionEvaluationException>(() => Expression.Parse("replace(context, 'x', 'yyyy')").Evaluate(text)).Message.ShouldContain("characters");
    }
}
