using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Cadre.Cli.Api;
using Cadre.Cli.Output;
using Cadre.Common;

namespace Cadre.Cli.Commands;

/// <summary><c>cadre keys create</c>: a new API key for a service account, printed this once.</summary>
internal static class KeyCommands
{
    public static Command Create()
    {
        var account = new Option<string>("--service-account", "-s")
        {
            Description = "The service account the key acts as: its name or ID",
            Required = true,
        };
        var name = new Option<string>("--name", "-n") { Description = "What the key is for (1–100 characters)", Required = true };
        var role = new Option<string?>("--role")
        {
            Description = "Cap the key below the account's role: viewer, operator, editor or admin (default: the account's)",
        };
        var expires = new Option<string?>("--expires")
        {
            Description = "When the key stops working: after a duration (90d, 12h) or at a date/time (2026-01-31, ISO 8601); default never",
        };
        var command = new Command("create", "Create an API key for a service account; the key is printed this once (standard output alone, for a file or a secret store)")
        {
            account, name, role, expires,
        };
        command.Runs(async (session, parse, cancellationToken) =>
        {
            var expiresAt = Expiry(parse.GetValue(expires));
            var serviceAccount = await FindAccountAsync(session, parse.GetValue(account)!, cancellationToken);
            var accountId = serviceAccount["id"]!.ToString();
            var body = new JsonObject { ["name"] = parse.GetValue(name), ["role"] = parse.GetValue(role), ["expiresAt"] = expiresAt?.ToString("O", CultureInfo.InvariantCulture) };
            var created = await session.Api.SendAsync(HttpMethod.Post,
                $"{session.WorkspacePath}/service-accounts/{CadreApiClient.Segment(accountId)}/api-keys", body, cancellationToken) as JsonObject
                ?? throw new CliException("The server answered the new key with nothing.", ExitCodes.Unavailable);

            await session.Printer.Messages.WriteLineAsync(
                $"Created API key '{created["name"]}' ({created["id"]}) for service account {serviceAccount["name"]}, role {created["role"]}, " +
                $"{(created["expiresAt"] is { } at ? $"expiring {at}" : "never expiring")}. This is the only time the key is shown: store it now.");
            if (session.Printer.Format == OutputFormat.Table)
            {
                await session.Printer.Output.WriteLineAsync(created["key"]?.ToString());
            }
            else
            {
                session.Printer.Document(created);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static DateTimeOffset? Expiry(string? text)
    {
        if (text is null)
        {
            return null;
        }

        if (Durations.TryParse(text, out var after) && after > TimeSpan.Zero)
        {
            return DateTimeOffset.UtcNow + after;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw new CliException($"--expires takes a duration (90d, 12h) or a date/time (2026-01-31, 2026-01-31T18:00:00Z), not '{text}'.", ExitCodes.Usage);
    }

    /// <summary>The service account by ID, else the one of that name.</summary>
    private static async Task<JsonObject> FindAccountAsync(CliSession session, string nameOrId, CancellationToken cancellationToken)
    {
        var accounts = $"{session.WorkspacePath}/service-accounts";
        try
        {
            if (await session.Api.GetAsync($"{accounts}/{CadreApiClient.Segment(nameOrId)}", cancellationToken) is JsonObject byId)
            {
                return byId;
            }
        }
        catch (CadreApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            // Not an ID: perhaps a name.
        }

        var (all, _) = await session.Api.ListAsync(accounts, null, cancellationToken);
        return all.OfType<JsonObject>().FirstOrDefault(a => a["name"]?.ToString() == nameOrId)
            ?? throw new CliException($"No service account '{nameOrId}' in workspace {session.Workspace}; `cadre service-accounts list` shows them.", ExitCodes.NotFound);
    }
}
