using System.Net.Http.Json;
using Microsoft.Playwright;

namespace Cadre.E2E.Infrastructure;

/// <summary>
/// An instance with an owner and an admin key, like <see cref="InstanceWithOwner"/>, whose operator provider
/// <c>fake</c> (an OpenAI-compatible one) is the server tests' <see cref="FakeModelServer"/> on 127.0.0.1: queue a
/// reply on <see cref="Model"/> and a model step naming <c>{"provider": "fake"}</c> streams it. Operator providers
/// may reach loopback addresses, so no outbound allowance is needed.
/// </summary>
public sealed class InstanceWithFakeModel : CadreBrowserServer, IAsyncLifetime
{
    public const string Provider = "fake";

    public FakeModelServer Model { get; private set; } = null!;

    protected override IDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["CADRE_ADMIN_EMAIL"] = InstanceWithOwner.OwnerEmail,
        ["CADRE_ADMIN_PASSWORD"] = InstanceWithOwner.OwnerPassword,
        ["CADRE_ADMIN_KEY"] = InstanceWithOwner.AdminKey,
        ["CADRE_PROVIDERS__FAKE__KIND"] = "openai",
        ["CADRE_PROVIDERS__FAKE__BASEURL"] = Model.OpenAIEndpoint.ToString(),
        ["CADRE_PROVIDERS__FAKE__APIKEY"] = "sk-e2e-fake-model-key",
    };

    // The fake model listens before the server starts, so the server's environment can name its address.
    async Task IAsyncLifetime.InitializeAsync()
    {
        Model = await FakeModelServer.StartAsync();
        await InitializeAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        if (Model is not null)
        {
            await Model.DisposeAsync();
        }
    }

    /// <inheritdoc cref="InstanceWithOwner.SignInAsync"/>
    public static Task SignInAsync(IPage page, string path) => InstanceWithOwner.SignInAsync(page, path);

    /// <summary>An HTTP client acting with the instance admin key.</summary>
    public HttpClient Admin() => Server.Client(InstanceWithOwner.AdminKey);

    public async Task<string> CreateWorkspaceAsync(string name, string displayName)
    {
        using var admin = Admin();
        using var response = await admin.PostAsJsonAsync("/api/v1/workspaces", new { name, displayName });
        response.EnsureSuccessStatusCode();
        return name;
    }
}
