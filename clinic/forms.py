from django import forms

from clinic.models import ContactMessage


class ContactForm(forms.ModelForm):
    class Meta:
        model = ContactMessage
        fields = ["name", "email", "phone", "subject", "message"]
        labels = {"name": "Your name", "email": "Your e-mail", "phone": "Your phone"}
        help_texts = {
            "email": "We answer at this address.",
            "message": "Please do not write about an emergency here: call your local "
            "emergency number.",
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "message": forms.Textarea(attrs={"rows": 6}),
        }
        error_messages = {
            "name": {"required": "Please tell us your name."},
            "email": {
                "required": "Please give an e-mail address so that we can answer.",
                "invalid": "This does not look like an e-mail address.",
            },
            "subject": {"required": "Please give your message a subject."},
            "message": {"required": "Please write your message."},
        }

    def clean_message(self) -> str:
        message = self.cleaned_data["message"].strip()
        if len(message) < 10:
            raise forms.ValidationError("Please write a little more, at least 10 characters.")
        return message
