using System.Text.Json.Nodes;
using Cadre.Expressions;
using Cadre.Workflows;

namespace Cadre.Tests.Workflows;

public sealed class PureActivityTests
{
    private static ExpressionScope Scope() => new(
        new Dictionary<string, JsonNode?>
        {
            ["context"] = JsonNode.Parse("""{"body": {"counter": 40, "priority": "high"}}"""),
            ["steps"] = JsonNode.Parse("""{"fetch": {"output": {"items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 3}]}}}"""),
        },
        DateTimeOffset.UnixEpoch);

    [Fact]
    public void Transform_IsItsInputWithEveryTemplateEvaluated()
    {
        var input = JsonTemplate.Parse(JsonNode.Parse("""{"next": "{{ context.body.counter + 1 }}", "skus": "{{ map(steps.fetch.output.items, 'sku') }}", "label": "n={{ context.body.counter }}", "fixed": [1, true]}"""));

        PureActivities.Transform(input, Scope())!.ToJsonString().ShouldBe("""{"next":41,"skus":["a","b"],"label":"n=40","fixed":[1,true]}""");
    }

    [Fact]
    public void Condition_AnswersWhetherItsFilterHolds()
    {
        PureActivities.Condition(JsonNode.Parse("""{"test": {"{{ context.body.priority }}": {"~in": ["high"]}}}""")!.AsObject(), Scope())["result"]!.GetValue<bool>().ShouldBeTrue();
        PureActivities.Condition(JsonNode.Parse("""{"test": {"{{ context.body.counter }}": {"~gt": 50}}}""")!.AsObject(), Scope())["result"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public void Switch_TakesTheFirstMatchingCase_ElseTheDefault()
    {
        var input = JsonNode.Parse("""
            {"cases": [
              {"when": {"{{ context.body.counter }}": {"~gt": 100}}, "value": "big"},
              {"when": {"{{ context.body.priority }}": {"~eq": "high"}}, "value": {"route": "urgent", "count": "{{ count(steps.fetch.output.items) }}"}},
              {"when": {"{{ context.body.counter }}": {"~exists": true}}, "value": "never reached"}
            ], "default": "normal"}
            """)!.AsObject();

        PureActivities.Switch(input, Scope()).ToJsonString().ShouldBe("""{"case":1,"value":{"route":"urgent","count":2}}""");
        input["cases"]!.AsArray().RemoveAt(2);
        input["cases"]!.AsArray().RemoveAt(1);
        PureActivities.Switch(input, Scope()).ToJsonString().ShouldBe("""{"case":null,"value":"normal"}""");
    }

    [Fact]
    public void CompiledWorkflows_CompileAVersionOnce()
    {
        using var cache = new CompiledWorkflows();
        var spec = WorkflowRules.Normalize(WorkflowRulesTests.Parse("""
            {"name": "cached", "steps": [{"id": "t", "activity": {"uniqueIdentifier": "transform"}, "input": {"n": "{{ context.body.counter * 2 }}"},
              "when": {"{{ context.body.priority }}": {"~eq": "high"}}}]}
            """));
        var compilations = 0;

        var first = cache.Get("wf_1", 1, () => { compilations++; return spec; });
        var second = cache.Get("wf_1", 1, () => { compilations++; return spec; });
        var other = cache.Get("wf_1", 2, () => { compilations++; return spec; });

        compilations.ShouldBe(2);
        second.ShouldBeSameAs(first);
        other.ShouldNotBeSameAs(first);
        first.Steps["t"].When.Matches(Scope()).ShouldBeTrue();
        PureActivities.Transform(first.Steps["t"].Input, Scope())!.ToJsonString().ShouldBe("""{"n":80}""");
    }
}
