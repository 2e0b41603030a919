using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Personas;

namespace Cadre.Tests.Personas;

public sealed class PersonaRulesTests
{
    private static PersonaSpec Spec(string json) => PersonaJson.Deserialize(json);

    private static IReadOnlyDictionary<string, string[]> Errors(string json)
    {
        var errors = new ValidationErrors();
        PersonaRules.Validate(PersonaRules.Normalize(Spec(json)), errors);
        return errors.ToDictionary();
    }

    [Fact]
    public void Normalize_FillsDefaults_TrimsAndDeduplicatesLabels()
    {
        var normalized = PersonaRules.Normalize(Spec("""{"name": " helper ", "tags": ["Billing", "billing ", " ", "VIP"], "model": {"provider": "OpenAI", "model": " "}}"""));

        normalized.Name.ShouldBe("helper");
        normalized.DisplayName.ShouldBe("helper");
        normalized.Tags.ShouldBe(["Billing", "VIP"]);
        normalized.Model!.Provider.ShouldBe("openai");
        normalized.Model.Model.ShouldBeNull();
        normalized.Model.OutputFormat.ShouldBe("text");
        normalized.Memory!.Mode.ShouldBe("none");
        normalized.Filter!.IssueSelectionStrategy.ShouldBe("highest_confidence");
    }

    [Fact]
    public void Normalize_IsIdempotent_SoUnchangedImportsStayUnchanged()
    {
        var once = PersonaRules.Normalize(Spec("""
            {"name": "x", "displayName": " X ", "tags": ["a", "A"], "parameters": [{"name": "p", "type": " string "}],
             "guardrails": {"rules": [{"name": "r", "kind": "deny_topic", "value": "politics"}]}, "flags": ["beta"]}
            """));

        PersonaJson.Serialize(PersonaRules.Normalize(once)).ShouldBe(PersonaJson.Serialize(once));
    }

    [Fact]
    public void Validate_AWellFormedPersona_HasNoErrors()
    {
        Errors("""
            {"name": "valid-one", "instructions": "Use {{ params.mode }} mode.", "parameters": [{"name": "mode", "type": "enum", "values": ["a", "b"], "default": "a"}],
             "model": {"provider": "mock", "outputFormat": "json", "outputSchema": {"type": "object"}, "temperature": 0, "maxTokens": 1},
             "filter": {"confidenceThreshold": 1}, "scope": {"eventTypes": ["ticket.*", "order:created"]}}
            """).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("""{"name": "xx1", "parameters": [{"name": "b", "type": "boolean", "default": "yes"}]}""", "parameters[0].default")]
    [InlineData("""{"name": "xx1", "parameters": [{"name": "s", "type": "string", "values": ["a"]}]}""", "parameters[0].values")]
    [InlineData("""{"name": "xx1", "parameters": [{"name": "e", "type": "enum", "values": []}]}""", "parameters[0].values")]
    [InlineData("""{"name": "xx1", "parameters": [null]}""", "parameters[0]")]
    [InlineData("""{"name": "xx1", "model": {"temperature": -0.1}}""", "model.temperature")]
    [InlineData("""{"name": "xx1", "guardrails": {"rules": [{"name": "n", "kind": "max_output_chars", "value": "lots"}]}}""", "guardrails.rules[0].value")]
    [InlineData("""{"name": "xx1", "guardrails": {"rules": [{"name": "n", "kind": "teleport", "value": "x"}]}}""", "guardrails.rules[0].kind")]
    [InlineData("""{"name": "xx1", "skills": [{"ref": "a"}, {"ref": "a"}]}""", "skills[1].ref")]
    [InlineData("""{"name": "export"}""", "name")]
    public void Validate_NamesTheBadField(string json, string field) =>
        Errors(json).Keys.ShouldContain(field);

    [Fact]
    public void Validate_MetadataOverItsSize_IsRefused()
    {
        var spec = PersonaRules.Normalize(new PersonaSpec { Name = "big-meta", Metadata = new JsonObject { ["blob"] = new string('m', PersonaRules.MaxJsonBytes) } });
        var errors = new ValidationErrors();

        PersonaRules.Validate(spec, errors);

        errors.Has("metadata").ShouldBeTrue();
    }

    [Fact]
    public void Validate_UnknownProvider_IsAWarningNotAnError()
    {
        var errors = new ValidationErrors();

        var warnings = PersonaRules.Validate(PersonaRules.Normalize(Spec("""{"name": "xx1", "model": {"provider": "acme-llm"}}""")), errors);

        errors.IsEmpty.ShouldBeTrue();
        warnings.ShouldHaveSingleItem().ShouldContain("acme-llm");
    }

    [Fact]
    public void ResolveParameters_UsesGivenValuesThenDefaults_AndChecksTypes()
    {
        var spec = PersonaRules.Normalize(Spec("""
            {"name": "xx1", "parameters": [
              {"name": "who", "type": "string", "required": true},
              {"name": "n", "type": "number", "default": 2},
              {"name": "on", "type": "boolean"},
              {"name": "cfg", "type": "json", "default": {"a": 1}}
            ]}
            """));
        var errors = new ValidationErrors();

        var values = PersonaRules.ResolveParameters(spec, new JsonObject { ["who"] = "Ada", ["on"] = true }, errors);

        errors.IsEmpty.ShouldBeTrue();
        values.Keys.ShouldBe(["who", "n", "on", "cfg"], ignoreOrder: true);
        values["n"]!.GetValue<int>().ShouldBe(2);

        var wrong = new ValidationErrors();
        PersonaRules.ResolveParameters(spec, new JsonObject { ["n"] = "two", ["on"] = 1, ["ghost"] = 1 }, wrong);
        wrong.ToDictionary().Keys.ShouldBe(["parameters.who", "parameters.n", "parameters.on", "parameters.ghost"], ignoreOrder: true);
    }
}
