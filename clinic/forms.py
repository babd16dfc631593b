from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import PhoneField
from clinic.models import ContactMessage


class ContactForm(forms.ModelForm):
    # Checked and written as every phone number in the clinic is (E.164).
    phone = PhoneField(label="Your phone", max_length=30, required=False)

    class Meta:
        model = ContactMessage
        fields = ["name", "email", "phone", "subject", "message"]
        labels = {
            "name": _("Your name"),
            "email": _("Your e-mail"),
            "phone": _("Your phone"),
            "subject": _("Subject"),
            "message": _("Message"),
        }
        help_texts = {
            "email": _("We answer at this address."),
            "message": _(
                "Please do not write about an emergency here: call your local emergency number."
            ),
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "message": forms.Textarea(attrs={"rows": 6}),
        }
        error_messages = {
            "name": {"required": _("Please tell us your name.")},
            "email": {
                "required": _("Please give an e-mail address so that we can answer."),
                "invalid": _("This does not look like an e-mail address."),
            },
            "subject": {"required": _("Please give your message a subject.")},
            "message": {"required": _("Please write your message.")},
        }

    def clean_message(self) -> str:
        message = self.cleaned_data["message"].strip()
        if len(message) < 10:
            raise forms.ValidationError(_("Please write a little more, at least 10 characters."))
        return message
