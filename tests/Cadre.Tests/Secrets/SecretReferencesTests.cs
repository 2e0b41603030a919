using System.Text.Json.Nodes;
using Cadre.Expressions;
using Cadre.Secrets;

namespace Cadre.Tests.Secrets;

public sealed class SecretReferencesTests
{
    [Fact]
    public void In_Document_FindsNamesInValuesAndMemberNames_ByDotAndBracket()
    {
        var document = JsonNode.Parse("""
            {"headers": {"Authorization": "Bearer {{ secrets.crmToken }}", "X-Other": "{{ secrets['crm-token'] ?? secrets.fallback }}"},
             "test": {"{{ secrets.inKey }}": {"~exists": true}},
             "list": ["{{ upper(secrets.inList) }}", "plain secrets.notATemplate"],
             "again": "{{ secrets.crmToken }}", "broken": "{{ secrets. }}"}
            """);

        SecretReferences.In(document).ShouldBe(["crmToken", "crm-token", "fallback", "inKey", "inList"]);
    }

    [Fact]
    public void In_Text_WithoutTemplates_ReadsNothing() =>
        SecretReferences.In("secrets.token, no braces").ShouldBeEmpty();

    [Theory]
    [InlineData("secrets[context.name]", true)]
    [InlineData("stringify(secrets)", true)]
    [InlineData("secrets", true)]
    [InlineData("keys(secrets)", true)]
    [InlineData("secrets.token", false)]
    [InlineData("secrets['a-b'] + secrets.c", false)]
    [InlineData("context.secrets[context.x]", false)]
    public void ReadsUnnamedMembersOf_TellsComputedOrWholeReads(string expression, bool unnamed) =>
        Expression.Parse(expression).ReadsUnnamedMembersOf("secrets").ShouldBe(unnamed);
}
