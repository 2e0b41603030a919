using System.Diagnostics;

namespace Cadre.Cli.Tests.Infrastructure;

/// <summary>
/// Runs the real <c>cadre</c> program (<c>dotnet cadre.dll</c>) in a directory of the test's choosing, with no
/// <c>CADRE_*</c> or <c>ASPNETCORE_*</c> variable of the machine's: for the commands that need no server,
/// which act on the database the settings in that directory name (<c>./data</c> by default).
/// </summary>
public static class CadreCommand
{
    public static async Task<CliResult> RunAsync(string workingDirectory, IEnumerable<string> arguments,
        IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cadre.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("CADRE_", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["CADRE_CONFIG"] = Path.Combine(workingDirectory, "config.yaml");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"cadre {string.Join(' ', arguments)} did not exit.\nstdout:\n{await output}\nstderr:\n{await error}");
        }

        return new CliResult(process.ExitCode, await output, await error);
    }

    public static Task<CliResult> RunAsync(string workingDirectory, params string[] arguments) =>
        RunAsync(workingDirectory, (IEnumerable<string>)arguments);
}
