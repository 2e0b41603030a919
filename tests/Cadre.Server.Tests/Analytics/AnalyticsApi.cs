using System.Net;
using System.Text.Json.Nodes;

namespace Cadre.Server.Tests.Analytics;

public static class AnalyticsApi
{
    public static string Analytics(this TestWorkspace workspace, string rest = "") => $"/api/v1/workspaces/{workspace.Name}{rest}";

    public static async Task<JsonObject> GetAnalyticsAsync(this TestWorkspace workspace, string path)
    {
        var response = await workspace.Owner.GetAsync(workspace.Analytics(path));
        await response.ShouldBeAsync(HttpStatusCode.OK);
        return await response.ReadObjectAsync();
    }
}
