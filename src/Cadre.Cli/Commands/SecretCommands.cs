using System.CommandLine;
using System.Net;
using System.Text.Json.Nodes;
using Cadre.Cli.Api;
using Spectre.Console;

namespace Cadre.Cli.Commands;

/// <summary><c>cadre secrets set NAME --value-stdin</c>: create a secret or replace its value, the value never on the command line.</summary>
internal static class SecretCommands
{
    public static Command Set()
    {
        var name = new Argument<string>("name") { Description = "The secret's name (templates read it as secrets.NAME)" };
        var fromStdin = new Option<bool>("--value-stdin")
        {
            Description = "Read the value from standard input (one trailing newline dropped); without it, a hidden prompt asks",
        };
        var description = new Option<string?>("--description", "-d") { Description = "What the secret is for" };
        var command = new Command("set", "Create a secret, or replace its value if it exists; the value is read from standard input or a prompt, never an argument")
        {
            name, fromStdin, description,
        };
        command.Runs(async (session, parse, cancellationToken) =>
        {
            var secret = parse.GetValue(name)!;
            var value = ReadValue(parse.GetValue(fromStdin), secret);
            var about = parse.GetValue(description);
            var collection = $"{session.WorkspacePath}/secrets";
            JsonNode? answer;
            string done;
            try
            {
                answer = await session.Api.SendAsync(HttpMethod.Post, collection,
                    new JsonObject { ["name"] = secret, ["value"] = value, ["description"] = about }, cancellationToken);
                done = $"Created secret {secret}.";
            }
            catch (CadreApiException ex) when (ex.Status == HttpStatusCode.Conflict)
            {
                // It exists: its value (and description, if given) is replaced; the name stays.
                answer = await session.Api.SendAsync(HttpMethod.Patch, $"{collection}/{CadreApiClient.Segment(secret)}",
                    new JsonObject { ["value"] = value, ["description"] = about }, cancellationToken);
                done = $"Replaced the value of secret {secret} (now version {answer?["version"]}).";
            }

            await session.Printer.Messages.WriteLineAsync(done);
            session.Printer.Item(answer);
            return ExitCodes.Success;
        });
        return command;
    }

    private static string ReadValue(bool fromStdin, string secret)
    {
        string? value;
        if (fromStdin)
        {
            value = Console.In.ReadToEnd();
            // `echo value | cadre secrets set …` adds a newline that is not part of the value.
            value = value.EndsWith("\r\n", StringComparison.Ordinal) ? value[..^2] : value.EndsWith('\n') ? value[..^1] : value;
        }
        else if (!Console.IsInputRedirected)
        {
            // On standard error, so standard output stays the secret's metadata even when it goes to a file.
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            value = console.Prompt(new TextPrompt<string>($"Value of {Markup.Escape(secret)}:").Secret().AllowEmpty());
        }
        else
        {
            throw new CliException("Pass --value-stdin to read the value from standard input (a value is never taken as an argument).", ExitCodes.Usage);
        }

        return string.IsNullOrEmpty(value)
            ? throw new CliException("The value is empty.", ExitCodes.Usage)
            : value;
    }
}
