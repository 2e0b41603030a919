using System.Text.Json.Nodes;
using Cadre.Personas;

namespace Cadre.Tests.Personas;

public sealed class PromptTemplateTests
{
    private static string Render(string template, string valuesJson) =>
        PromptTemplate.Parse(template).Render(JsonNode.Parse(valuesJson)!.AsObject().ToDictionary(p => p.Key, p => p.Value));

    [Theory]
    [InlineData("Hello {{ params.name }}!", """{"name": "Ada"}""", "Hello Ada!")]
    [InlineData("{{params.name}}{{ params.name }}", """{"name": "x"}""", "xx")]
    [InlineData("Count: {{ params.n }}", """{"n": 3.5}""", "Count: 3.5")]
    [InlineData("On: {{ params.flag }}", """{"flag": true}""", "On: true")]
    [InlineData("Cfg: {{ params.cfg }}", """{"cfg": {"a": [1, 2]}}""", """Cfg: {"a":[1,2]}""")]
    [InlineData("Region: {{ params.cfg.region }}", """{"cfg": {"region": "eu"}}""", "Region: eu")]
    [InlineData("Missing path: [{{ params.cfg.nope.deeper }}]", """{"cfg": {"region": "eu"}}""", "Missing path: []")]
    [InlineData("Unset: [{{ params.other }}]", """{}""", "Unset: []")]
    [InlineData("Literal \\{{ params.name }} and {{ params.name }}", """{"name": "Ada"}""", "Literal {{ params.name }} and Ada")]
    [InlineData("No placeholders { } }} here", """{}""", "No placeholders { } }} here")]
    [InlineData("A value is not re-read: {{ params.name }}", """{"name": "{{ params.secret }}"}""", "A value is not re-read: {{ params.secret }}")]
    public void Render_SubstitutesParameters(string template, string values, string expected) =>
        Render(template, values).ShouldBe(expected);

    [Fact]
    public void Parse_ListsTheParametersUsed_Once()
    {
        var template = PromptTemplate.Parse("{{ params.a }} {{ params.b.c }} {{ params.a }} \\{{ params.literal }}");

        template.Errors.ShouldBeEmpty();
        template.Parameters.ShouldBe(["a", "b"]);
    }

    [Theory]
    [InlineData("Unclosed {{ params.a", "never closed")]
    [InlineData("{{ context.user }}", "context.user")]
    [InlineData("{{ params. }}", "params.")]
    [InlineData("{{ params.a-b }}", "params.a-b")]
    [InlineData("{{}}", "{{  }}")]
    public void Parse_ReportsWhatItCannotRead(string text, string mentioned)
    {
        var template = PromptTemplate.Parse(text);

        template.Errors.ShouldHaveSingleItem().ShouldContain(mentioned);
    }

    [Fact]
    public void Render_LeavesUnreadablePlaceholdersAsWritten()
    {
        PromptTemplate.Parse("a {{ weird }} b").Render(new Dictionary<string, JsonNode?>()).ShouldBe("a {{ weird }} b");
    }
}
