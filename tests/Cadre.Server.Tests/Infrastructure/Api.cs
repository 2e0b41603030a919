using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cadre.Server.Tests.Infrastructure;

/// <summary>An RFC 9457 problem as a client reads it.</summary>
public sealed record Problem(string? Type, string? Title, int? Status, string? Detail, Dictionary<string, string[]>? Errors);

/// <summary>A workspace made for one test, with an owner key and a client using it.</summary>
public sealed record TestWorkspace(string Name, string Id, string OwnerKey, HttpClient Owner);

public static class Api
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, object body) =>
        client.PostAsync(path, JsonContent(body));

    public static Task<HttpResponseMessage> PatchJsonAsync(this HttpClient client, string path, object body, string? ifMatch = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, path) { Content = JsonContent(body) };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return client.SendAsync(request);
    }

    public static StringContent JsonContent(object body) =>
        new(body as string ?? Serialize(body), Encoding.UTF8, "application/json");

    public static string Serialize(object body) => JsonSerializer.Serialize(body, Json);

    public static async Task<JsonObject> ReadObjectAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonObject>(Json))!;

    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(Json))!;

    /// <summary>Asserts the status and that the body is a problem of that status; returns the problem.</summary>
    public static async Task<Problem> ShouldBeProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(status, body);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", body);
        var problem = JsonSerializer.Deserialize<Problem>(body, Json)!;
        problem.Status.ShouldBe((int)status);
        problem.Title.ShouldNotBeNullOrEmpty();
        return problem;
    }

    public static async Task ShouldBeAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        if (response.StatusCode != status)
        {
            throw new ShouldAssertException($"Expected {(int)status} {status} but got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>A workspace name no other test uses.</summary>
    public static string UniqueName(string prefix = "t") => $"{prefix}-{Guid.NewGuid():N}"[..24];

    /// <summary>Creates a workspace (as instance admin) and a key of an owner service account for it.</summary>
    public static async Task<TestWorkspace> CreateWorkspaceAsync(this CadreApp app, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        name ??= UniqueName();
        using var admin = app.AdminClient();
        var created = await admin.PostJsonAsync("/api/v1/workspaces", new { name });
        await created.ShouldBeAsync(HttpStatusCode.Created);
        var id = (string)(await created.ReadObjectAsync())["id"]!;
        var ownerKey = await admin.CreateKeyAsync(name, "owner");
        return new TestWorkspace(name, id, ownerKey, app.Client(ownerKey));
    }

    /// <summary>Creates a service account with the given role and a key for it; returns the key's secret.</summary>
    public static async Task<string> CreateKeyAsync(this HttpClient client, string workspace, string role, DateTimeOffset? expiresAt = null)
    {
        var (_, key) = await client.CreateServiceAccountAsync(workspace, role, expiresAt);
        return key;
    }

    /// <summary>Creates a service account with the given role and a key for it; returns the account's ID and the key.</summary>
    public static async Task<(string AccountId, string Key)> CreateServiceAccountAsync(
        this HttpClient client, string workspace, string role, DateTimeOffset? expiresAt = null)
    {
        var account = await client.PostJsonAsync($"/api/v1/workspaces/{workspace}/service-accounts", new { name = UniqueName(role), role });
        await account.ShouldBeAsync(HttpStatusCode.Created);
        var accountId = (string)(await account.ReadObjectAsync())["id"]!;
        var key = await client.PostJsonAsync($"/api/v1/workspaces/{workspace}/service-accounts/{accountId}/api-keys", new { name = $"{role} key", expiresAt });
        await key.ShouldBeAsync(HttpStatusCode.Created);
        return (accountId, (string)(await key.ReadObjectAsync())["key"]!);
    }
}
