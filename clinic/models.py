from django.db import models
from django.utils.translation import gettext_lazy as _


class ContactMessage(models.Model):
    """A message sent through the contact page, read by the clinic's admins in Django admin."""

    name = models.CharField(_("name"), max_length=150)
    email = models.EmailField(_("e-mail"), max_length=254)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    subject = models.CharField(_("subject"), max_length=150)
    message = models.TextField(_("message"), max_length=5000)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    handled = models.BooleanField(
        _("handled"), default=False, help_text=_("Ticked once someone of the clinic has answered.")
    )

    class Meta:
        verbose_name = _("contact message")
        verbose_name_plural = _("contact messages")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["handled", "-created_at"], name="contact_handled_created_idx")
        ]

    def __str__(self) -> str:
        return f"{self.subject} — {self.name}"
