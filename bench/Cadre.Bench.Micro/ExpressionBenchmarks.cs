using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Cadre.Expressions;

namespace Cadre.Bench.Micro;

/// <summary>
/// Evaluating parsed expressions, filters and templates. The baseline does the same work by hand on
/// the same JsonNodes (three member lookups and an addition), so the ratio is the language's overhead.
/// </summary>
[MemoryDiagnoser]
public class ExpressionBenchmarks
{
    private readonly JsonObject _steps = JsonNode.Parse("""{"a": {"output": {"counter": 41, "items": [{"id": 1, "qty": 2}, {"id": 2, "qty": 0}, {"id": 3, "qty": 5}]}}}""")!.AsObject();
    private readonly JsonObject _context = JsonNode.Parse("""{"event": {"source": "zendesk", "payload": {"priority": "high", "score": 7, "tags": ["vip", "billing"], "subject": "Refund for order 1234"}}}""")!.AsObject();
    private ExpressionScope _scope = null!;
    private Expression _counter = null!;
    private Expression _collection = null!;
    private Filter _filter = null!;
    private Template _text = null!;
    private JsonTemplate _input = null!;

    [GlobalSetup]
    public void Setup()
    {
        _scope = new ExpressionScope(new Dictionary<string, JsonNode?> { ["steps"] = _steps, ["context"] = _context }, DateTimeOffset.UnixEpoch);
        _counter = Expression.Parse("steps.a.output.counter + 1");
        _collection = Expression.Parse("sum(map(filter(steps.a.output.items, i => i.qty > 0), i => i.qty))");
        _filter = Filter.Parse(JsonNode.Parse("""
            {"{{ context.event.payload.priority }}": {"~in": ["high", "urgent"]}, "{{ context.event.payload.score }}": {"~gte": 5},
             "$or": [{"{{ context.event.payload.tags }}": {"~contains": "vip"}}, {"{{ context.event.source }}": {"~eq": "email"}}]}
            """));
        _text = Template.Parse("Ticket from {{ context.event.source }}: {{ context.event.payload.subject }} ({{ context.event.payload.score * 10 }}%)");
        _input = JsonTemplate.Parse(JsonNode.Parse("""{"url": "https://api.example.com/t/{{ context.event.payload.score }}", "body": {"priority": "{{ context.event.payload.priority }}", "next": "{{ steps.a.output.counter + 1 }}"}}"""));
    }

    [Benchmark(Baseline = true, Description = "by hand: steps[a][output][counter] + 1")]
    public JsonNode ByHand() => JsonValue.Create(_steps["a"]!["output"]!["counter"]!.GetValue<double>() + 1);

    [Benchmark(Description = "steps.a.output.counter + 1 (cached)")]
    public JsonNode? CachedExpression() => _counter.Evaluate(_scope);

    [Benchmark(Description = "parse and compile steps.a.output.counter + 1")]
    public Expression ParseExpression() => Expression.Parse("steps.a.output.counter + 1");

    [Benchmark(Description = "sum(map(filter(…)))")]
    public JsonNode? CollectionExpression() => _collection.Evaluate(_scope);

    [Benchmark(Description = "filter: ~in, ~gte, $or of ~contains/~eq")]
    public bool FilterEvaluation() => _filter.Matches(_scope);

    [Benchmark(Description = "template: text with 3 placeholders")]
    public JsonNode? TextTemplate() => _text.Render(_scope);

    [Benchmark(Description = "step input: JSON with 3 templates")]
    public JsonNode? JsonInput() => _input.Render(_scope);
}
