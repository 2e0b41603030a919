using System.Diagnostics;

namespace Cadre.Cli.Tests.Infrastructure;

/// <summary>
/// Runs the real <c>cadre</c> program (<c>dotnet cadre.dll</c>) with no <c>CADRE_*</c> or <c>ASPNETCORE_*</c>
/// variable of the machine's and its own configuration file in its working directory. Used as is for the commands
/// that need no server (they act on the database the settings in that directory name, <c>./data</c> by default),
/// and by <see cref="CadreInstance"/> with a server's address and key added.
/// </summary>
public static class CadreCommand
{
    public static Task<CliResult> RunAsync(string workingDirectory, IEnumerable<string> arguments,
        IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = StartInfo(workingDirectory, arguments);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return RunToEndAsync(start, null, timeout);
    }

    public static Task<CliResult> RunAsync(string workingDirectory, params string[] arguments) =>
        RunAsync(workingDirectory, (IEnumerable<string>)arguments);

    /// <summary>How <c>cadre</c> is started: in <paramref name="workingDirectory"/>, with a clean environment.</summary>
    public static ProcessStartInfo StartInfo(string workingDirectory, IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
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
        return start;
    }

    /// <summary>Starts <paramref name="start"/>, writes <paramref name="input"/> and closes standard input, and waits for the end.</summary>
    public static async Task<CliResult> RunToEndAsync(ProcessStartInfo start, string? input, TimeSpan? timeout)
    {
        ArgumentNullException.ThrowIfNull(start);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"cadre {string.Join(' ', start.ArgumentList.Skip(1))} did not exit.\nstdout:\n{await output}\nstderr:\n{await error}");
        }

        return new CliResult(process.ExitCode, await output, await error);
    }
}
