namespace Cadre.Cli.Tests.Infrastructure;

/// <summary>What one run of <c>cadre</c> did: its exit code, standard output and standard error.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error)
{
    /// <summary>Fails with both streams unless the command exited 0.</summary>
    public CliResult ShouldSucceed()
    {
        ExitCode.ShouldBe(0, $"cadre failed.\nstdout:\n{Output}\nstderr:\n{Error}");
        return this;
    }

    /// <summary>Fails unless the command exited with <paramref name="exitCode"/>.</summary>
    public CliResult ShouldFailWith(int exitCode)
    {
        ExitCode.ShouldBe(exitCode, $"cadre exited {ExitCode}, not {exitCode}.\nstdout:\n{Output}\nstderr:\n{Error}");
        return this;
    }

    public System.Text.Json.Nodes.JsonNode Json() =>
        System.Text.Json.Nodes.JsonNode.Parse(Output) ?? throw new InvalidOperationException("cadre printed null.");
}
