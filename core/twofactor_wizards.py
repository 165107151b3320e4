"""django-two-factor-auth's wizard views, imported at their first request (core.twofactor)."""

from django.http import HttpResponse
from django.shortcuts import redirect
from two_factor.views import DisableView, LoginView, ProfileView, QRGeneratorView, SetupView

from .twofactor import _FRESH_CODES, _NEXT, issue_recovery_codes


class EnrolmentView(SetupView):
    """The library's enrolment wizard, ending on the page that shows the recovery codes."""

    def done(self, form_list, **kwargs) -> HttpResponse:
        super().done(form_list, **kwargs)  # saves the TOTP device, verifies this session
        self.request.session[_FRESH_CODES] = issue_recovery_codes(user=self.request.user)
        if next_url := self.get_redirect_url():  # checked against the allowed hosts
            self.request.session[_NEXT] = next_url
        return redirect("two_factor:setup_complete")


login = LoginView.as_view()
profile = ProfileView.as_view()
setup = EnrolmentView.as_view()
qr = QRGeneratorView.as_view()
disable = DisableView.as_view()
