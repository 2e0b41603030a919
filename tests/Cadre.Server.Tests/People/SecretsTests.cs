using System.Net;
using System.Text.RegularExpressions;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.People;

/// <summary>Passwords, tokens and keys never reach a log, and never come back from the API after they were issued.</summary>
public sealed partial class SecretsTests
{
    [Theory, AllDatabases]
    public async Task Secrets_NeverAppearInLogsOrLaterResponses(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db);
        var secrets = new List<string> { app.AdminKey };
        using var anonymous = app.Client();

        var setupCode = app.Services.GetRequiredService<StartupReport>().SetupCode!;
        secrets.Add(setupCode);
        const string ownerPassword = "the owner's secret passphrase";
        secrets.Add(ownerPassword);
        await (await anonymous.PostJsonAsync("/api/v1/setup", new { code = setupCode, email = "root@example.com", displayName = "Owner", password = ownerPassword }))
            .ShouldBeAsync(HttpStatusCode.Created);
        const string wrongPassword = "a wrong guess at the password";
        secrets.Add(wrongPassword);
        using var guesser = app.Client();
        await guesser.PostJsonAsync("/api/v1/auth/login", new { email = "root@example.com", password = wrongPassword });

        var workspace = await app.CreateWorkspaceAsync();
        secrets.Add(workspace.OwnerKey);
        var invitation = await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/invitations", new { email = "visitor@example.com", role = "viewer" })).ReadObjectAsync();
        var invitationToken = (string)invitation["token"]!;
        secrets.Add(invitationToken);
        const string guestPassword = "my very own passphrase";
        secrets.Add(guestPassword);
        var (guest, _) = app.BrowserClient();
        using var _guest = guest;
        var accepted = await guest.PostJsonAsync("/api/v1/invitations/accept", new { token = invitationToken, displayName = "Guest", password = guestPassword });
        await accepted.ShouldBeAsync(HttpStatusCode.OK);
        guest.DefaultRequestHeaders.Add("X-CSRF-Token", (string)(await accepted.ReadObjectAsync())["csrfToken"]!);
        var personalKey = await guest.PostJsonAsync("/api/v1/me/api-keys", new { name = "mine" });
        await personalKey.ShouldBeAsync(HttpStatusCode.Created);
        secrets.Add((string)(await personalKey.ReadObjectAsync())["key"]!);
        using var admin = app.AdminClient();
        var guestId = (string)(await (await admin.GetAsync("/api/v1/users?search=visitor")).ReadObjectAsync())["results"]![0]!["id"]!;
        var reset = await (await admin.PostAsync($"/api/v1/users/{guestId}/password-reset", null)).ReadObjectAsync();
        secrets.Add(ResetToken().Match((string)reset["link"]!).Groups["token"].Value);

        var later = new List<string>
        {
            await (await admin.GetAsync("/api/v1/users")).Content.ReadAsStringAsync(),
            await (await admin.GetAsync($"/api/v1/users/{guestId}")).Content.ReadAsStringAsync(),
            await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/api-keys")).Content.ReadAsStringAsync(),
            await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/invitations")).Content.ReadAsStringAsync(),
            await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/members")).Content.ReadAsStringAsync(),
            await (await guest.GetAsync("/api/v1/me")).Content.ReadAsStringAsync(),
            await (await guest.GetAsync("/api/v1/me/api-keys")).Content.ReadAsStringAsync(),
        };

        secrets.RemoveAll(string.IsNullOrEmpty);
        secrets.Count.ShouldBeGreaterThanOrEqualTo(8);
        app.Logs.Messages.Count.ShouldBeGreaterThan(0);
        foreach (var secret in secrets)
        {
            app.Logs.Messages.ShouldNotContain(line => line.Contains(secret, StringComparison.Ordinal), $"a log line holds the secret {secret[..4]}…");
            later.ShouldNotContain(body => body.Contains(secret, StringComparison.Ordinal), $"a later response holds the secret {secret[..4]}…");
        }

        later.ShouldAllBe(body => !body.Contains("hash", StringComparison.OrdinalIgnoreCase) && !body.Contains("securityStamp", StringComparison.OrdinalIgnoreCase));
    }

    [GeneratedRegex(@"token=(?<token>[A-Za-z0-9]+)")]
    private static partial Regex ResetToken();
}
