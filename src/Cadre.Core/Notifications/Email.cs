using System.ComponentModel.DataAnnotations;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Cadre.Notifications;

/// <summary>Outgoing mail. Bound from <c>Cadre:Smtp</c> (env <c>CADRE_SMTP_HOST</c>, <c>CADRE_SMTP_PORT</c>, …). Without a host, nothing is mailed.</summary>
public sealed class SmtpOptions
{
    public const string SectionName = "Cadre:Smtp";

    /// <summary>The SMTP server; empty turns mail off (links are then returned to the admin who asked for them).</summary>
    public string? Host { get; set; }

    /// <summary>Default 587 (submission with STARTTLS).</summary>
    [Range(1, 65535, ErrorMessage = "Cadre:Smtp:Port must be between 1 and 65535.")]
    public int Port { get; set; } = 587;

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>The sender, e.g. <c>Cadre &lt;cadre@example.com&gt;</c>. Required with a host.</summary>
    public string? From { get; set; }

    /// <summary><c>auto</c> (default: STARTTLS when offered), <c>starttls</c> (required), <c>ssl</c> (implicit TLS, port 465) or <c>none</c>.</summary>
    [RegularExpression("^(auto|starttls|ssl|none)$", ErrorMessage = "Cadre:Smtp:Security must be auto, starttls, ssl or none.")]
    public string Security { get; set; } = "auto";
}

/// <summary>A plain-text message to one person.</summary>
internal sealed record EmailMessage(string To, string Subject, string Body);

internal interface IEmailSender
{
    bool IsConfigured { get; }

    Task SendAsync(EmailMessage message, CancellationToken cancellationToken);
}

/// <summary>Sends mail over SMTP with MailKit (System.Net.Mail's client is obsolete for new code).</summary>
internal sealed class SmtpEmailSender(IOptions<SmtpOptions> options, ILogger<SmtpEmailSender> logger) : IEmailSender
{
    public bool IsConfigured => !string.IsNullOrWhiteSpace(options.Value.Host);

    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var settings = options.Value;
        var host = settings.Host ?? throw new InvalidOperationException("Cadre:Smtp:Host is not set; check IsConfigured before sending.");
        var mime = new MimeMessage { Subject = message.Subject, Body = new TextPart("plain") { Text = message.Body } };
        mime.From.Add(MailboxAddress.Parse(settings.From ?? $"Cadre <cadre@{host}>"));
        mime.To.Add(MailboxAddress.Parse(message.To));

        using var client = new SmtpClient();
        var security = settings.Security switch
        {
            "none" => SecureSocketOptions.None,
            "starttls" => SecureSocketOptions.StartTls,
            "ssl" => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.Auto,
        };
        await client.ConnectAsync(host, settings.Port, security, cancellationToken);
        if (!string.IsNullOrEmpty(settings.Username))
        {
            await client.AuthenticateAsync(settings.Username, settings.Password ?? "", cancellationToken);
        }

        await client.SendAsync(mime, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
        // The subject only: bodies carry one-time links, which must not reach the logs.
        logger.LogInformation("Mailed '{Subject}' to {Recipient}", message.Subject, message.To);
    }
}
