using System.Net;
using System.Text.Json.Nodes;

namespace Cadre.Server.Tests.Personas;

/// <summary>Helpers for the persona tests: paths and a persona created in one call.</summary>
internal static class PersonaApi
{
    public static string Path(this TestWorkspace workspace, string rest = "") =>
        $"/api/v1/workspaces/{workspace.Name}/personas{rest}";

    /// <summary>A persona with the fields most tests read; <paramref name="extra"/> adds or overrides members.</summary>
    public static JsonObject Body(string name, object? extra = null)
    {
        var body = new JsonObject
        {
            ["name"] = name,
            ["displayName"] = $"The {name}",
            ["description"] = "Answers customer questions about billing.",
            ["instructions"] = "You are a billing assistant.",
            ["model"] = new JsonObject { ["provider"] = "openai", ["model"] = "gpt-4o-mini" },
        };
        if (extra is not null)
        {
            foreach (var (key, value) in JsonNode.Parse(Api.Serialize(extra))!.AsObject())
            {
                body[key] = value?.DeepClone();
            }
        }

        return body;
    }

    public static async Task<JsonObject> CreatePersonaAsync(this TestWorkspace workspace, string name, object? extra = null)
    {
        var response = await workspace.Owner.PostAsync(workspace.Path(), Api.JsonContent(Body(name, extra)));
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return await response.ReadObjectAsync();
    }

    public static async Task<JsonObject> GetPersonaAsync(this TestWorkspace workspace, string persona)
    {
        var response = await workspace.Owner.GetAsync(workspace.Path($"/{persona}"));
        await response.ShouldBeAsync(HttpStatusCode.OK);
        return await response.ReadObjectAsync();
    }

    public static List<string> Names(JsonObject page) =>
        page["results"]!.AsArray().Select(item => (string)item!["name"]!).ToList();
}
