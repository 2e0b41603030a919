import { BrowserRouter, Route, Routes } from "react-router";
import { ToastProvider } from "../components";
import { HomePage } from "../pages/HomePage";
import { LoginPage } from "../pages/LoginPage";
import { NotFoundPage } from "../pages/NotFoundPage";
import { SetupPage } from "../pages/SetupPage";
import { WorkflowsPage } from "../pages/WorkflowsPage";
import { RequireSignedIn } from "./Layout";
import { SessionProvider } from "./session";

export function App() {
  return (
    <BrowserRouter>
      <ToastProvider>
        <SessionProvider>
          <Routes>
            <Route path="/setup" element={<SetupPage />} />
            <Route path="/login" element={<LoginPage />} />
            <Route element={<RequireSignedIn />}>
              <Route index element={<HomePage />} />
              <Route path="/w/:workspace/workflows" element={<WorkflowsPage />} />
            </Route>
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </SessionProvider>
      </ToastProvider>
    </BrowserRouter>
  );
}
