using System.Net;
using Cadre.Storage;

namespace Cadre.Server.Tests.Auth;

/// <summary>Every endpoint against every role: the lowest role that may call it succeeds, the one below gets 403.</summary>
public sealed class RoleBoundaryTests
{
    public static TheoryData<DatabaseKind, string, string> Cases()
    {
        var data = new TheoryData<DatabaseKind, string, string>();
        string[] roles = ["viewer", "operator", "editor", "admin", "owner"];
        string[] operations = ["GetWorkspace", "UpdateWorkspace", "DeleteWorkspace", "ListKeys", "CreateKey", "GetKey", "RevokeKey", "ListWorkspaces", "CreateWorkspace"];
        foreach (var db in TestPostgres.IsEnabled ? new[] { DatabaseKind.Sqlite, DatabaseKind.Postgres } : [DatabaseKind.Sqlite])
        {
            foreach (var operation in operations)
            {
                foreach (var role in roles)
                {
                    data.Add(db, operation, role);
                }
            }
        }

        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public async Task Operation_Role_AllowedOnlyFromItsMinimumRole(DatabaseKind db, string operation, string role)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var (targetAccountId, _) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "viewer");
        var targetKeyId = (string)(await (await workspace.Owner.PostJsonAsync(
            $"/api/v1/workspaces/{workspace.Name}/service-accounts/{targetAccountId}/api-keys", new { name = "target" })).ReadObjectAsync())["id"]!;
        using var client = role == "owner" ? workspace.Owner : app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, role));
        var basePath = $"/api/v1/workspaces/{workspace.Name}";

        var (response, minimum) = operation switch
        {
            "GetWorkspace" => (await client.GetAsync(basePath), "viewer"),
            "UpdateWorkspace" => (await client.PatchJsonAsync(basePath, new { displayName = "x" }), "admin"),
            "DeleteWorkspace" => (await client.DeleteAsync(basePath), "owner"),
            "ListKeys" => (await client.GetAsync($"{basePath}/api-keys"), "admin"),
            "CreateKey" => (await client.PostJsonAsync($"{basePath}/service-accounts/{targetAccountId}/api-keys", new { name = "new" }), "admin"),
            "GetKey" => (await client.GetAsync($"{basePath}/api-keys/{targetKeyId}"), "admin"),
            "RevokeKey" => (await client.DeleteAsync($"{basePath}/api-keys/{targetKeyId}"), "admin"),
            "ListWorkspaces" => (await client.GetAsync("/api/v1/workspaces"), "viewer"),
            "CreateWorkspace" => (await client.PostJsonAsync("/api/v1/workspaces", new { name = Api.UniqueName() }), "instance admin"),
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };

        string[] order = ["viewer", "operator", "editor", "admin", "owner", "instance admin"];
        if (Array.IndexOf(order, role) >= Array.IndexOf(order, minimum))
        {
            ((int)response.StatusCode).ShouldBeInRange(200, 299, await response.Content.ReadAsStringAsync());
        }
        else
        {
            (await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Detail!.ShouldNotBeNullOrEmpty();
        }
    }
}
