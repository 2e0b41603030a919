using System.Text.Json.Nodes;
using Cadre.Common;

namespace Cadre.Tests.Common;

public sealed class JsonDiffTests
{
    private static Dictionary<string, FieldChange> Diff(string before, string after) =>
        JsonDiff.Compare(JsonNode.Parse(before), JsonNode.Parse(after)).ToDictionary(c => c.Path);

    [Fact]
    public void Compare_EqualDocuments_HaveNoChanges() =>
        Diff("""{"a": 1, "b": {"c": [1, 2]}}""", """{"b": {"c": [1, 2]}, "a": 1}""").ShouldBeEmpty();

    [Fact]
    public void Compare_NestedObjects_NameTheLeafField()
    {
        var changes = Diff("""{"model": {"provider": "openai", "temperature": 0.1}}""", """{"model": {"provider": "openai", "temperature": 0.7, "maxTokens": 5}}""");

        changes.Keys.ShouldBe(["model.temperature", "model.maxTokens"], ignoreOrder: true);
        changes["model.temperature"].Op.ShouldBe("changed");
        changes["model.maxTokens"].Op.ShouldBe("added");
        changes["model.maxTokens"].Before.ShouldBeNull();
    }

    [Fact]
    public void Compare_ListsOfValues_ChangeAsAWhole()
    {
        var changes = Diff("""{"tags": ["a", "b"]}""", """{"tags": ["b", "a"]}""");

        changes.Keys.ShouldBe(["tags"]);
        changes["tags"].After!.ToJsonString().ShouldBe("""["b","a"]""");
    }

    [Fact]
    public void Compare_ListsOfObjects_ChangeItemByItem()
    {
        var changes = Diff(
            """{"parameters": [{"name": "a", "type": "string"}, {"name": "b", "type": "number"}]}""",
            """{"parameters": [{"name": "a", "type": "json"}]}""");

        changes.Keys.ShouldBe(["parameters[0].type", "parameters[1]"], ignoreOrder: true);
        changes["parameters[1]"].Op.ShouldBe("removed");
    }

    [Fact]
    public void Compare_NullCountsAsAbsent()
    {
        var changes = Diff("""{"icon": null, "color": "#fff"}""", """{"icon": "x", "color": null}""");

        changes["icon"].Op.ShouldBe("added");
        changes["color"].Op.ShouldBe("removed");
    }
}
