using Cadre.Cli.Tests.Infrastructure;

namespace Cadre.Cli.Tests;

/// <summary><c>cadre login</c>, contexts and <c>whoami</c>: keys saved in a file only the user reads, and used from it.</summary>
public sealed class LoginTests(CadreInstance cadre) : IClassFixture<CadreInstance>
{
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Login_SavesAContextOnlyTheOwnerMayRead_AndCommandsUseIt()
    {
        var workspace = await cadre.CreateWorkspaceAsync("login");
        var key = await cadre.CreateKeyAsync(workspace, "editor");
        var config = Path.Combine(TestDirectories.Create("cli-config"), "nested", "config.yaml");
        var fromConfigOnly = new Dictionary<string, string?> { ["CADRE_CONFIG"] = config, ["CADRE_SERVER"] = null, ["CADRE_KEY"] = null };

        var login = await cadre.RunAsync(null, ["login", "--server", cadre.Url, "--name", "dev", "--key-stdin"], key + "\n", fromConfigOnly);

        login.ShouldSucceed();
        // The key's only workspace becomes the context's.
        login.Error.ShouldContain($"workspace '{workspace}'");
        File.GetUnixFileMode(config).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(Path.GetDirectoryName(config)!).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.ReadAllText(config).ShouldContain(key);

        var whoami = (await cadre.RunAsync(null, ["whoami"], environment: fromConfigOnly)).ShouldSucceed();
        whoami.Output.ShouldContain(workspace);
        whoami.Output.ShouldContain("editor");
        (await cadre.RunAsync(null, ["personas", "list"], environment: fromConfigOnly)).ShouldSucceed();

        // A second context; `use` switches, `delete` forgets.
        (await cadre.RunAsync(null, ["login", "--server", cadre.Url, "--name", "admin", "--workspace", workspace, "--key-stdin"],
            CadreInstance.AdminKey, fromConfigOnly)).ShouldSucceed();
        var contexts = (await cadre.RunAsync(null, ["contexts", "list"], environment: fromConfigOnly)).ShouldSucceed();
        contexts.Output.ShouldContain("dev");
        contexts.Output.ShouldMatch(@"\*\s+admin");
        (await cadre.RunAsync(null, ["contexts", "use", "dev"], environment: fromConfigOnly)).ShouldSucceed();
        (await cadre.RunAsync(null, ["whoami", "-o", "json"], environment: fromConfigOnly)).ShouldSucceed().Json()["actor"]!["kind"]!.GetValue<string>().ShouldBe("service_account");
        (await cadre.RunAsync(null, ["--context", "admin", "whoami", "-o", "json"], environment: fromConfigOnly)).ShouldSucceed()
            .Json()["actor"]!["kind"]!.GetValue<string>().ShouldBe("instance_key");
        (await cadre.RunAsync(null, ["contexts", "delete", "admin"], environment: fromConfigOnly)).ShouldSucceed();
        File.ReadAllText(config).ShouldNotContain(CadreInstance.AdminKey);
        (await cadre.RunAsync(null, ["--context", "admin", "whoami"], environment: fromConfigOnly)).ShouldFailWith(2);

        (await cadre.RunAsync(null, ["logout"], environment: fromConfigOnly)).ShouldSucceed();
        var loggedOut = await cadre.RunAsync(null, ["personas", "list"], environment: fromConfigOnly);
        loggedOut.ShouldFailWith(3);
        loggedOut.Error.ShouldContain("cadre login");
    }

    [Fact]
    public async Task Login_WithAWrongKey_Exits3_AndSavesNothing()
    {
        var config = Path.Combine(TestDirectories.Create("cli-config"), "config.yaml");

        var login = await cadre.RunAsync(null, ["login", "--server", cadre.Url, "--key-stdin"], "cadre_notARealKey\n",
            new Dictionary<string, string?> { ["CADRE_CONFIG"] = config, ["CADRE_KEY"] = null });

        login.ShouldFailWith(3);
        login.Error.ShouldContain("401");
        File.Exists(config).ShouldBeFalse();
    }
}
