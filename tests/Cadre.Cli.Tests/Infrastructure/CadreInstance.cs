using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Cadre.Cli.Tests.Infrastructure;

/// <summary>
/// A real Cadre server process on 127.0.0.1 with a fresh SQLite database and a known admin key, shared by a
/// test class; <see cref="RunAsync"/> runs the real <c>cadre</c> program against it as a process.
/// </summary>
public sealed class CadreInstance : IAsyncLifetime
{
    public const string AdminKey = "cadre_cliTestsAdminKey0123456789abcdefghijklmnopqrstuvwxyzAB";

    public ServerProcess Server { get; private set; } = null!;

    public string Url => Server.Url;

    public async Task InitializeAsync()
    {
        Server = ServerProcess.Start(TestDirectories.Create("cli-server"), new Dictionary<string, string>
        {
            ["CADRE_ADMIN_KEY"] = AdminKey,
            ["Cadre__Outbound__AllowPrivateNetworks"] = "true",
        });
        await Server.WaitUntilListeningAsync();
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    public HttpClient Admin() => Server.Client(AdminKey);

    /// <summary>A new workspace with a unique name made from <paramref name="prefix"/>.</summary>
    public async Task<string> CreateWorkspaceAsync(string prefix)
    {
        var name = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        using var admin = Admin();
        (await admin.PostAsJsonAsync("/api/v1/workspaces", new { name, displayName = prefix })).EnsureSuccessStatusCode();
        return name;
    }

    /// <summary>A key of a new service account with <paramref name="role"/> in <paramref name="workspace"/>.</summary>
    public async Task<string> CreateKeyAsync(string workspace, string role)
    {
        using var admin = Admin();
        var account = await (await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/service-accounts",
            new { name = $"{role}-{Guid.NewGuid():N}"[..(role.Length + 9)], role })).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonObject>();
        var key = await (await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/service-accounts/{account!["id"]}/api-keys",
            new { name = "cli tests" })).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonObject>();
        return key!["key"]!.GetValue<string>();
    }

    /// <summary>
    /// Runs <c>dotnet cadre.dll</c> with <paramref name="arguments"/>. Unless <paramref name="environment"/> says
    /// otherwise it talks to this server with the admin key in <paramref name="workspace"/>, and keeps its
    /// configuration in a fresh file, so no test sees another's contexts (or the machine's own).
    /// </summary>
    public Task<CliResult> RunAsync(string? workspace, IEnumerable<string> arguments, string? input = null,
        IDictionary<string, string?>? environment = null, TimeSpan? timeout = null) =>
        CadreCommand.RunToEndAsync(StartInfo(workspace, arguments, environment), input, timeout);

    public Task<CliResult> RunAsync(string? workspace, params string[] arguments) => RunAsync(workspace, (IEnumerable<string>)arguments);

    /// <summary>How <see cref="RunAsync"/> starts <c>cadre</c>, for a test that watches the process as it runs (<see cref="CliProcess"/>).</summary>
    public ProcessStartInfo StartInfo(string? workspace, IEnumerable<string> arguments, IDictionary<string, string?>? environment = null)
    {
        var start = CadreCommand.StartInfo(TestDirectories.Create("cli"), arguments);
        start.Environment["CADRE_SERVER"] = Url;
        start.Environment["CADRE_KEY"] = AdminKey;
        if (workspace is not null)
        {
            start.Environment["CADRE_WORKSPACE"] = workspace;
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        return start;
    }
}
