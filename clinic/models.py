from django.db import models


class ContactMessage(models.Model):
    """A message sent through the contact page, read by the clinic's admins in Django admin."""

    name = models.CharField(max_length=150)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=30, blank=True)
    subject = models.CharField(max_length=150)
    message = models.TextField(max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    handled = models.BooleanField(
        default=False, help_text="Ticked once someone of the clinic has answered."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["handled", "-created_at"], name="contact_handled_created_idx")
        ]

    def __str__(self) -> str:
        return f"{self.subject} — {self.name}"
