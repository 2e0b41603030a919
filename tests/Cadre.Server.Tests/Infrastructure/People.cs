using System.Net;
using System.Net.Http.Headers;

namespace Cadre.Server.Tests.Infrastructure;

/// <summary>An account made for one test.</summary>
public sealed record TestUser(string Id, string Email, string Password);

/// <summary>A signed-in browser: a client with the session cookie and the CSRF token it must send with writes.</summary>
public sealed class Browser : IDisposable
{
    public Browser(HttpClient client, CookieContainer cookies, string csrfToken)
    {
        Client = client;
        Cookies = cookies;
        UseCsrfToken(csrfToken);
    }

    public HttpClient Client { get; }

    public CookieContainer Cookies { get; }

    public string CsrfToken { get; private set; } = "";

    public void UseCsrfToken(string token)
    {
        CsrfToken = token;
        Client.DefaultRequestHeaders.Remove("X-CSRF-Token");
        Client.DefaultRequestHeaders.Add("X-CSRF-Token", token);
    }

    public void Dispose() => Client.Dispose();
}

public static class PeopleApi
{
    public const string Password = "a long and unusual passphrase";

    /// <summary>Creates an account with a password, as instance admin.</summary>
    public static async Task<TestUser> CreateUserAsync(this CadreApp app, string? instanceRole = null, string? displayName = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var email = $"{Api.UniqueName("user")}@example.com";
        using var admin = app.AdminClient();
        var response = await admin.PostJsonAsync("/api/v1/users", new { email, displayName = displayName ?? email.Split('@')[0], password = Password, instanceRole });
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return new TestUser((string)(await response.ReadObjectAsync())["id"]!, email, Password);
    }

    /// <summary>Signs in through the API, as a browser would.</summary>
    public static async Task<Browser> SignInAsync(this CadreApp app, TestUser user)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(user);
        var (client, cookies) = app.BrowserClient();
        var response = await client.PostJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password });
        await response.ShouldBeAsync(HttpStatusCode.OK);
        return new Browser(client, cookies, (string)(await response.ReadObjectAsync())["csrfToken"]!);
    }

    /// <summary>Adds a user to a workspace with a role (as the workspace's owner client).</summary>
    public static async Task AddMemberAsync(this TestWorkspace workspace, TestUser user, string role)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(user);
        var response = await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/members", new { userId = user.Id, role });
        await response.ShouldBeAsync(HttpStatusCode.Created);
    }

    /// <summary>The value of a cookie the response set, with its attributes.</summary>
    public static string? SetCookie(this HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues("Set-Cookie", out var values)
            ? values.FirstOrDefault(v => v.StartsWith(name + "=", StringComparison.Ordinal))
            : null;

    public static AuthenticationHeaderValue Bearer(string key) => new("Bearer", key);
}
