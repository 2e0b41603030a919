using System.Net;
using System.Text.Json.Nodes;

namespace Cadre.Server.Tests.Workflows;

/// <summary>Helpers for the workflow tests.</summary>
internal static class WorkflowApi
{
    public static string Workflows(this TestWorkspace workspace, string rest = "") =>
        $"/api/v1/workspaces/{workspace.Name}/workflows{rest}";

    /// <summary>A small valid workflow: fetch → shape, manual.</summary>
    public static JsonObject Body(string name, object? extra = null)
    {
        var body = JsonNode.Parse($$$"""
            {
              "name": "{{{name}}}",
              "description": "Fetches an order and shapes it.",
              "steps": [
                {"id": "fetch", "activity": {"uniqueIdentifier": "http"}, "input": {"url": "https://api.example.com/orders/{{ context.body.id }}"}},
                {"id": "shape", "activity": {"uniqueIdentifier": "transform"}, "dependsOn": ["fetch"], "input": {"total": "{{ steps.fetch.output.body.total }}"}}
              ]
            }
            """)!.AsObject();
        if (extra is not null)
        {
            foreach (var (key, value) in JsonNode.Parse(Api.Serialize(extra))!.AsObject())
            {
                body[key] = value?.DeepClone();
            }
        }

        return body;
    }

    public static async Task<JsonObject> CreateWorkflowAsync(this TestWorkspace workspace, string name, object? extra = null)
    {
        var response = await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(Body(name, extra)));
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return await response.ReadObjectAsync();
    }

    public static async Task<JsonObject> GetWorkflowAsync(this TestWorkspace workspace, string workflow)
    {
        var response = await workspace.Owner.GetAsync(workspace.Workflows($"/{workflow}"));
        await response.ShouldBeAsync(HttpStatusCode.OK);
        return await response.ReadObjectAsync();
    }

    public static List<string> Names(JsonObject page) =>
        page["results"]!.AsArray().Select(item => (string)item!["name"]!).ToList();
}
