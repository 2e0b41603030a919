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
        string[] operations =
        [
            "GetWorkspace", "UpdateWorkspace", "DeleteWorkspace", "ListKeys", "CreateKey", "GetKey", "RevokeKey", "ListWorkspaces", "CreateWorkspace",
            "ListMembers", "AddMember", "UpdateMember", "RemoveMember", "TransferOwnership", "ListInvitations", "CreateInvitation", "RevokeInvitation",
            "ListServiceAccounts", "CreateServiceAccount", "UpdateServiceAccount", "ListTeams", "GetTeam", "CreateTeam", "AddTeamMember", "ListUsers",
            "ListSecrets", "CreateSecret", "GetEncryptionStatus",
        ];
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
        var member = await app.CreateUserAsync();
        var outsider = await app.CreateUserAsync();
        await workspace.AddMemberAsync(member, "viewer");
        var teamId = (string)(await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/teams", new { name = "target" })).ReadObjectAsync())["id"]!;
        var invitationId = (string)(await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/invitations",
            new { email = $"{Api.UniqueName()}@example.com", role = "viewer" })).ReadObjectAsync())["id"]!;
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
            "ListMembers" => (await client.GetAsync($"{basePath}/members"), "viewer"),
            "AddMember" => (await client.PostJsonAsync($"{basePath}/members", new { userId = outsider.Id, role = "viewer" }), "admin"),
            "UpdateMember" => (await client.PatchJsonAsync($"{basePath}/members/{member.Id}", new { role = "operator" }), "admin"),
            "RemoveMember" => (await client.DeleteAsync($"{basePath}/members/{member.Id}"), "admin"),
            "TransferOwnership" => (await client.PostJsonAsync($"{basePath}/transfer-ownership", new { userId = member.Id }), "owner"),
            "ListInvitations" => (await client.GetAsync($"{basePath}/invitations"), "admin"),
            "CreateInvitation" => (await client.PostJsonAsync($"{basePath}/invitations", new { email = $"{Api.UniqueName()}@example.com", role = "viewer" }), "admin"),
            "RevokeInvitation" => (await client.DeleteAsync($"{basePath}/invitations/{invitationId}"), "admin"),
            "ListServiceAccounts" => (await client.GetAsync($"{basePath}/service-accounts"), "admin"),
            "CreateServiceAccount" => (await client.PostJsonAsync($"{basePath}/service-accounts", new { name = Api.UniqueName(), role = "viewer" }), "admin"),
            "UpdateServiceAccount" => (await client.PatchJsonAsync($"{basePath}/service-accounts/{targetAccountId}", new { description = "x" }), "admin"),
            "ListTeams" => (await client.GetAsync($"{basePath}/teams"), "viewer"),
            "GetTeam" => (await client.GetAsync($"{basePath}/teams/{teamId}"), "viewer"),
            "CreateTeam" => (await client.PostJsonAsync($"{basePath}/teams", new { name = Api.UniqueName() }), "admin"),
            "AddTeamMember" => (await client.PutAsync($"{basePath}/teams/{teamId}/members/{member.Id}", null), "admin"),
            "ListUsers" => (await client.GetAsync("/api/v1/users"), "instance admin"),
            "ListSecrets" => (await client.GetAsync($"{basePath}/secrets"), "editor"),
            "CreateSecret" => (await client.PostJsonAsync($"{basePath}/secrets", new { name = "token", value = "a-secret-value" }), "admin"),
            "GetEncryptionStatus" => (await client.GetAsync("/api/v1/admin/encryption"), "instance admin"),
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
