using System.Text.Json.Nodes;
using Cadre.Expressions;
using CsCheck;

namespace Cadre.Tests.Expressions;

public sealed class FilterTests
{
    private static ExpressionScope Event(string payload) => new(
        new Dictionary<string, JsonNode?>
        {
            ["context"] = new JsonObject { ["event"] = new JsonObject { ["source"] = "zendesk", ["payload"] = JsonNode.Parse(payload) } },
        },
        DateTimeOffset.UnixEpoch);

    private static bool Matches(string filter, string payload) => Filter.Parse(JsonNode.Parse(filter)).Matches(Event(payload));

    private const string Ticket = """
        {"priority": "high", "score": 7, "tags": ["vip", "billing"], "subject": "Refund for order 1234", "none": null, "empty": "", "list": [],
         "at": "2026-03-01T10:00:00Z", "customer": {"tier": "gold", "seats": 12}}
        """;

    [Theory]
    [InlineData("""{"{{ context.event.payload.priority }}": {"~eq": "high"}}""", true)]
    [InlineData("""{"context.event.payload.priority": {"~eq": "high"}}""", true)]
    [InlineData("""{"{{context.event.payload.priority}}": {"~eq": "low"}}""", false)]
    [InlineData("""{"{{ context.event.payload.priority }}": {"~neq": "low"}}""", true)]
    [InlineData("""{"{{ context.event.payload.score }}": {"~gt": 5}}""", true)]
    [InlineData("""{"{{ context.event.payload.score }}": {"~gt": 7}}""", false)]
    [InlineData("""{"{{ context.event.payload.score }}": {"~gte": 7}}""", true)]
    [InlineData("""{"{{ context.event.payload.score }}": {"~lt": 7}}""", false)]
    [InlineData("""{"{{ context.event.payload.score }}": {"~lte": 7.0}}""", true)]
    [InlineData("""{"{{ context.event.payload.at }}": {"~gt": "2026-02-28T00:00:00Z"}}""", true)]
    [InlineData("""{"{{ context.event.payload.score }}": {"~gt": "5"}}""", false)]
    [InlineData("""{"{{ context.event.payload.priority }}": {"~in": ["high", "urgent"]}}""", true)]
    [InlineData("""{"{{ context.event.payload.priority }}": {"~nin": ["high", "urgent"]}}""", false)]
    [InlineData("""{"{{ context.event.payload.tags }}": {"~contains": "vip"}}""", true)]
    [InlineData("""{"{{ context.event.payload.subject }}": {"~contains": "order"}}""", true)]
    [InlineData("""{"{{ context.event.payload.subject }}": {"~ncontains": "order"}}""", false)]
    [InlineData("""{"{{ context.event.payload.subject }}": {"~starts": "Refund"}}""", true)]
    [InlineData("""{"{{ context.event.payload.subject }}": {"~ends": "1234"}}""", true)]
    [InlineData("""{"{{ context.event.payload.subject }}": {"~regex": "order \\d{4}$"}}""", true)]
    [InlineData("""{"{{ context.event.payload.subject }}": {"~regex": "(?i)^refund"}}""", true)]
    [InlineData("""{"{{ context.event.payload.score }}": {"~regex": "7"}}""", false)]
    [InlineData("""{"{{ context.event.payload.customer.tier }}": {"~exists": true}}""", true)]
    [InlineData("""{"{{ context.event.payload.none }}": {"~exists": true}}""", false)]
    [InlineData("""{"{{ context.event.payload.missing }}": {"~exists": false}}""", true)]
    [InlineData("""{"{{ context.event.payload.empty }}": {"~empty": true}}""", true)]
    [InlineData("""{"{{ context.event.payload.list }}": {"~empty": true}}""", true)]
    [InlineData("""{"{{ context.event.payload.tags }}": {"~empty": false}}""", true)]
    [InlineData("""{"{{ context.event.payload.score }}": {"~between": [5, 10]}}""", true)]
    [InlineData("""{"{{ context.event.payload.score }}": {"~between": [8, 10]}}""", false)]
    [InlineData("""{"{{ context.event.payload.priority }}": {"~between": ["a", "m"]}}""", true)]
    [InlineData("""{"{{ context.event.payload.score }}": {"~gt": 1, "~lt": 5}}""", false)]
    [InlineData("""{"{{ context.event.payload.customer.seats * 2 }}": {"~eq": 24}}""", true)]
    [InlineData("""{"{{ lower(context.event.payload.customer.tier) }}": {"~in": ["gold", "platinum"]}}""", true)]
    [InlineData("""{"{{ context.event.payload.score }}": {"~gt": "{{ context.event.payload.customer.seats - 10 }}"}}""", true)]
    [InlineData("""{"{{ context.event.payload.subject - 1 }}": {"~exists": false}}""", false)]
    public void Operators_TestTheField(string filter, bool expected) => Matches(filter, Ticket).ShouldBe(expected);

    [Theory]
    [InlineData("""{"$and": [{"{{ context.event.payload.priority }}": {"~eq": "high"}}, {"{{ context.event.payload.score }}": {"~gt": 5}}]}""", true)]
    [InlineData("""{"$and": [{"{{ context.event.payload.priority }}": {"~eq": "high"}}, {"{{ context.event.payload.score }}": {"~gt": 50}}]}""", false)]
    [InlineData("""{"$or": [{"{{ context.event.payload.priority }}": {"~eq": "low"}}, {"{{ context.event.source }}": {"~eq": "zendesk"}}]}""", true)]
    [InlineData("""{"$or": [{"{{ context.event.payload.priority }}": {"~eq": "low"}}, {"{{ context.event.source }}": {"~eq": "email"}}]}""", false)]
    [InlineData("""{"$not": {"{{ context.event.payload.priority }}": {"~eq": "low"}}}""", true)]
    [InlineData("""{"$not": {"$or": [{"{{ context.event.payload.tags }}": {"~contains": "vip"}}]}}""", false)]
    [InlineData("""{"{{ context.event.payload.priority }}": {"~eq": "high"}, "$not": {"{{ context.event.payload.score }}": {"~lt": 3}}}""", true)]
    [InlineData("""{}""", true)]
    public void LogicalOperators_Nest(string filter, bool expected) => Matches(filter, Ticket).ShouldBe(expected);

    [Theory]
    [InlineData("""[]""", "", "Must be an object")]
    [InlineData("""{"$xor": []}""", "$xor", "not a logical operator")]
    [InlineData("""{"$or": []}""", "$or", "non-empty array")]
    [InlineData("""{"$or": [{"a": {"~eq": 1}}, 5]}""", "$or[1]", "Must be an object")]
    [InlineData("""{"{{ context.x ": {"~eq": 1}}""", "{{ context.x ", "not a readable expression")]
    [InlineData("""{"priority is {{ context.x }}": {"~eq": 1}}""", "priority is {{ context.x }}", "not text around one")]
    [InlineData("""{"context.x": {"~like": 1}}""", "context.x.~like", "not a filter operator")]
    [InlineData("""{"context.x": {}}""", "context.x", "object of operators")]
    [InlineData("""{"context.x": "high"}""", "context.x", "object of operators")]
    [InlineData("""{"context.x": {"~gt": true}}""", "context.x.~gt", "number or a string")]
    [InlineData("""{"context.x": {"~in": "high"}}""", "context.x.~in", "array")]
    [InlineData("""{"context.x": {"~starts": 1}}""", "context.x.~starts", "string")]
    [InlineData("""{"context.x": {"~regex": "("}}""", "context.x.~regex", "regular expression")]
    [InlineData("""{"context.x": {"~exists": "yes"}}""", "context.x.~exists", "true or false")]
    [InlineData("""{"context.x": {"~between": [1]}}""", "context.x.~between", "[low, high]")]
    [InlineData("""{"context.x": {"~between": [1, "z"]}}""", "context.x.~between", "[low, high]")]
    [InlineData("""{"context.x": {"~eq": "{{ 1 + }}"}}""", "context.x.~eq", "ended")]
    public void Parse_RefusesBadFilters_NamingThePath(string filter, string path, string problem)
    {
        var error = Should.Throw<FilterException>(() => Filter.Parse(JsonNode.Parse(filter)));

        error.Path.ShouldBe(path);
        error.Problem.ShouldContain(problem);
    }

    [Fact]
    public void Parse_UnknownRoots_AreRefusedWhenRootsAreGiven()
    {
        var options = new ExpressionOptions { Roots = new HashSet<string> { "context" } };

        Should.Throw<FilterException>(() => Filter.Parse(JsonNode.Parse("""{"{{ secrets.key }}": {"~exists": true}}"""), options)).Problem.ShouldContain("secrets");
        Filter.Parse(JsonNode.Parse("""{"$not": {"{{ context.a }}": {"~eq": "{{ context.b }}"}}}"""), options).Expressions.Count.ShouldBe(2);
    }

    [Fact]
    public void Parse_DeepNesting_IsRefused()
    {
        JsonNode filter = new JsonObject { ["context.x"] = new JsonObject { ["~eq"] = 1 } };
        for (var i = 0; i < 40; i++)
        {
            filter = new JsonObject { ["$not"] = filter };
        }

        Should.Throw<FilterException>(() => Filter.Parse(filter)).Problem.ShouldContain("nest");
    }

    [Fact]
    public void Regex_ThatRunsTooLong_FailsTheEvaluation()
    {
        var filter = Filter.Parse(JsonNode.Parse("""{"{{ context.event.payload.text }}": {"~regex": "^(a+)+$"}}"""));

        Should.Throw<ExpressionEvaluationException>(() => filter.Matches(Event($$"""{"text": "{{new string('a', 40)}}!"}""")))
            .Message.ShouldContain("100 ms");
    }

    [Fact]
    public void Not_IsTheComplement_AndOrIsTheUnionOfAnd() =>
        Gen.Select(Gen.Int[0, 10], Gen.Int[0, 10], Gen.Int[0, 10]).Sample((score, low, high) =>
        {
            var payload = $$"""{"score": {{score}}}""";
            var between = $$$"""{"{{ context.event.payload.score }}": {"~between": [{{{low}}}, {{{high}}}]}}""";
            var negated = $$"""{"$not": {{between}}}""";
            var asRange = $$$"""{"{{ context.event.payload.score }}": {"~gte": {{{low}}}, "~lte": {{{high}}}}}""";
            var outside = $$$"""{"$or": [{"{{ context.event.payload.score }}": {"~lt": {{{low}}}}}, {"{{ context.event.payload.score }}": {"~gt": {{{high}}}}}]}""";
            return Matches(between, payload) == !Matches(negated, payload)
                && Matches(between, payload) == Matches(asRange, payload)
                && Matches(outside, payload) == !Matches(between, payload)
                && Matches(between, payload) == (score >= low && score <= high);
        });

    [Fact]
    public void Operators_AreAllListed_WithTheirOperands()
    {
        Filter.Operators.Select(o => o.Name).ShouldBe(["~eq", "~neq", "~gt", "~gte", "~lt", "~lte", "~in", "~nin", "~contains", "~ncontains", "~starts", "~ends", "~regex", "~exists", "~empty", "~between"]);
        Filter.LogicalOperators.Select(o => o.Name).ShouldBe(["$and", "$or", "$not"]);
        Filter.Operators.Concat(Filter.LogicalOperators).ShouldAllBe(o => o.Operand.Length > 0 && o.Description.Length > 0);
    }
}
