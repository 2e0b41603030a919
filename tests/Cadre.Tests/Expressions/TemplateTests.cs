using System.Text.Json.Nodes;
using Cadre.Expressions;

namespace Cadre.Tests.Expressions;

public sealed class TemplateTests
{
    private static string Render(string template) =>
        Template.Parse(template).Render(ExpressionTests.Scope())?.ToJsonString() ?? "null";

    [Theory]
    [InlineData("{{ context.body.counter + 1 }}", "41")]
    [InlineData("{{context.body.ok}}", "true")]
    [InlineData("{{ context.body.tags }}", "[\"a\",\"b\",\"c\"]")]
    [InlineData("{{ context.body.none }}", "null")]
    [InlineData("  {{ context.body.counter }}", "\"  40\"")]
    [InlineData("n={{ context.body.counter + 1 }}", "\"n=41\"")]
    [InlineData("{{ context.body.counter }}{{ context.body.counter }}", "\"4040\"")]
    [InlineData("[{{ context.body.none }}] {{ context.body.tags }}", "\"[] [\\u0022a\\u0022,\\u0022b\\u0022,\\u0022c\\u0022]\"")]
    [InlineData("plain text", "\"plain text\"")]
    [InlineData("", "\"\"")]
    [InlineData("literal \\{{ context.body.counter }}", "\"literal {{ context.body.counter }}\"")]
    [InlineData("{{ {a: {b: 1}}.a.b }}", "1")]
    [InlineData("{{ 'has }} inside' }}", "\"has }} inside\"")]
    [InlineData("x } y }} z", "\"x } y }} z\"")]
    public void Render_KeepsTheTypeOfALonePlaceholder_AndRendersMixedTextAsText(string template, string expected) =>
        Render(template).ShouldBe(expected);

    [Theory]
    [InlineData("Hi {{ context.name", 3)]
    [InlineData("ok {{ }} ", 5)]
    [InlineData("a {{ 1 + }} b", 9)]
    [InlineData("{{ a }} then {{ (b }}", 19)]
    public void Parse_Errors_GiveThePositionInTheWholeText(string template, int position) =>
        Should.Throw<ExpressionSyntaxException>(() => Template.Parse(template)).Position.ShouldBe(position);

    [Fact]
    public void Render_CanPlaceContextNodesIntoNewDocumentsRepeatedly()
    {
        var template = JsonTemplate.Parse(JsonNode.Parse("""{"items": "{{ steps.fetch.output.items }}", "first": "{{ steps.fetch.output.items[0] }}", "fixed": [1, {"k": true}]}"""));
        var scope = ExpressionTests.Scope();

        var one = template.Render(scope);
        var two = template.Render(scope);

        one!.ToJsonString().ShouldBe("""{"items":[{"id":"i-1"},{"id":"i-2"}],"first":{"id":"i-1"},"fixed":[1,{"k":true}]}""");
        two!.ToJsonString().ShouldBe(one.ToJsonString());
        template.Placeholders.Count.ShouldBe(2);
    }

    [Fact]
    public void JsonTemplate_NamesThePathOfABadTemplate()
    {
        var error = Should.Throw<JsonTemplateException>(() =>
            JsonTemplate.Parse(JsonNode.Parse("""{"request": {"headers": [{"value": "Bearer {{ secrets.token "}]}}""")));

        error.Path.ShouldBe("request.headers[0].value");
        error.Syntax.Position.ShouldBe(7);
    }

    [Fact]
    public void JsonTemplate_RendersTransformInput_WithTypes()
    {
        var template = JsonTemplate.Parse(JsonNode.Parse("""
            {"count": "{{ length(context.body.items) }}", "skus": "{{ map(context.body.items, 'sku') }}", "label": "Order for {{ trim(context.body.name) }}", "n": 5, "none": null}
            """));

        template.Render(ExpressionTests.Scope())!.ToJsonString()
            .ShouldBe("""{"count":3,"skus":["x-1","y-2","x-3"],"label":"Order for Ada Lovelace","n":5,"none":null}""");
    }
}
