using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using Cadre.Cli.Tests.Infrastructure;

namespace Cadre.Cli.Tests;

/// <summary>
/// The .NET tool package as a user gets it: packed from this build, installed with <c>dotnet tool install</c> from
/// that package alone, then <c>cadre --version</c> and <c>cadre server</c>. (The linux-x64 single file, a 65 MB
/// self-contained publish, is checked by deploy/cli-package.sh, which also packs in Release.)
/// </summary>
public sealed class PackagingTests
{
    [Fact]
    public async Task ToolPackage_InstallsWithDotnetTool_AndItsServerServesTheApiAndTheUi()
    {
        var root = RepositoryRoot();
        // The test's own configuration (bin/Debug/net10.0/): the CLI was built with it, so packing needs no build.
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var work = TestDirectories.Create("package");
        var packages = Path.Combine(work, "nupkg");

        (await DotnetAsync(work, "pack", Path.Combine(root, "src", "Cadre.Cli", "Cadre.Cli.csproj"), "--no-build", "-c", configuration, "-o", packages, "-nologo"))
            .ShouldSucceed();
        var package = Directory.GetFiles(packages, "Cadre.Cli.*.nupkg").ShouldHaveSingleItem();
        using (var archive = ZipFile.OpenRead(package))
        {
            var entries = archive.Entries.Select(entry => entry.FullName).ToList();
            entries.ShouldContain("tools/net10.0/any/cadre.dll");
            entries.ShouldContain("tools/net10.0/any/appsettings.json");
            if (File.Exists(Path.Combine(AppContext.BaseDirectory, "wwwroot", "index.html")))
            {
                entries.ShouldContain("tools/net10.0/any/wwwroot/index.html");
            }
        }

        // Installed from that package alone, as from any feed.
        var config = Path.Combine(work, "nuget.config");
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /><add key="cadre" value="{packages}" /></packageSources></configuration>
            """);
        var tools = Path.Combine(work, "tools");
        // Its own package cache too: the machine's may hold an older Cadre.Cli of the same version, which would be installed instead.
        (await RunAsync(work, "dotnet", new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(work, "packages") },
            "tool", "install", "--tool-path", tools, "--configfile", config, "Cadre.Cli")).ShouldSucceed();
        var cadre = Path.Combine(tools, "cadre");
        var version = await RunAsync(work, cadre, "--version");
        version.ShouldSucceed().Output.Trim().ShouldStartWith(typeof(CadreInstance).Assembly.GetName().Version!.ToString(3));

        await using var server = ServerProcess.Start(TestDirectories.Create("tool-server"), new Dictionary<string, string>(), [cadre, "server"]);
        await server.WaitUntilListeningAsync();
        using var client = server.Client(server.PrintedAdminKey());
        (await client.GetAsync("/healthz")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.GetAsync("/api/v1/workspaces")).StatusCode.ShouldBe(HttpStatusCode.OK);
        if (File.Exists(Path.Combine(AppContext.BaseDirectory, "wwwroot", "index.html")))
        {
            (await client.GetStringAsync("/")).ShouldContain("<!doctype html>", Case.Insensitive);
        }
    }

    private static Task<CliResult> DotnetAsync(string workingDirectory, params string[] arguments) =>
        RunAsync(workingDirectory, "dotnet", new Dictionary<string, string>(), arguments);

    private static Task<CliResult> RunAsync(string workingDirectory, string program, params string[] arguments) =>
        RunAsync(workingDirectory, program, new Dictionary<string, string>(), arguments);

    private static async Task<CliResult> RunAsync(string workingDirectory, string program, IDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return await CadreCommand.RunToEndAsync(start, null, TimeSpan.FromMinutes(5));
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Cadre.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("No Cadre.slnx above the test output.");
    }
}
